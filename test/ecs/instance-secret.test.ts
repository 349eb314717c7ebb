/**
 * Secrets Manager has no "hex only" option: the generator must leave exactly 0-9a-f.
 * Secrets Manager draws from uppercase, lowercase, digits, the punctuation below and space.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
 */
import { Template } from 'aws-cdk-lib/assertions';
import { HEX_CHARACTERS, INSTANCE_SECRET_GENERATOR, INSTANCE_SECRET_LENGTH, InstanceSecret, NON_HEX_PRINTABLE_CHARACTERS } from '../../lib/ecs/instance-secret';
import { ConvexBackendTaskDefinition, ConvexStorage } from '../../lib';
import { readAppConfig } from '../../lib/app/app-config';
import { acknowledgmentsUnder, testApp, unitTestStack } from '../helpers/cdk-app';

const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** The characters Secrets Manager may pick with these generator settings. */
function alphabet(settings: typeof INSTANCE_SECRET_GENERATOR): string[] {
  const pool = [
    ...(settings.excludeUppercase ? [] : UPPERCASE),
    ...(settings.excludeLowercase ? [] : LOWERCASE),
    ...(settings.excludeNumbers ? [] : DIGITS),
    ...(settings.excludePunctuation ? [] : PUNCTUATION),
    ...(settings.includeSpace ? [' '] : []),
  ];
  return pool.filter((c) => !(settings.excludeCharacters ?? '').includes(c)).sort();
}

test('the generator can only produce the 16 lowercase hex digits, 64 of them', () => {
  expect(alphabet(INSTANCE_SECRET_GENERATOR).join('')).toBe('0123456789abcdef');
  expect(INSTANCE_SECRET_GENERATOR.passwordLength).toBe(64);
  expect(INSTANCE_SECRET_LENGTH).toBe(64);
});

test('the exclusion list alone leaves only hex: every printable character but space and 0-9a-f', () => {
  const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
  expect(printable.filter((c) => c !== ' ' && !NON_HEX_PRINTABLE_CHARACTERS.includes(c)).join('')).toBe(HEX_CHARACTERS);
  expect(new Set(NON_HEX_PRINTABLE_CHARACTERS).size).toBe(NON_HEX_PRINTABLE_CHARACTERS.length);
  expect(NON_HEX_PRINTABLE_CHARACTERS).toHaveLength(94 - 16);
  // Even if Secrets Manager ignored the punctuation and uppercase switches, nothing else is left.
  expect(alphabet({ ...INSTANCE_SECRET_GENERATOR, excludePunctuation: false, excludeUppercase: false }).join('')).toBe(HEX_CHARACTERS);
  expect(INSTANCE_SECRET_GENERATOR.includeSpace).toBe(false);
  expect(INSTANCE_SECRET_GENERATOR.requireEachIncludedType).toBe(false);
});

test('the synthesized generator, applied to all printable ASCII Secrets Manager draws from, leaves exactly 0-9a-f', () => {
  const stack = unitTestStack();
  new InstanceSecret(stack, 'InstanceSecret');
  const generated = (Object.values(Template.fromStack(stack).toJSON().Resources)[0] as any).Properties.GenerateSecretString;
  const printable = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i));
  const kept = printable.filter((c) => {
    if (generated.ExcludeCharacters.includes(c)) return false;
    if (c === ' ') return generated.IncludeSpace === true;
    if (UPPERCASE.includes(c)) return generated.ExcludeUppercase !== true;
    if (LOWERCASE.includes(c)) return generated.ExcludeLowercase !== true;
    if (DIGITS.includes(c)) return generated.ExcludeNumbers !== true;
    return generated.ExcludePunctuation !== true;
  });
  expect(kept.join('')).toBe('0123456789abcdef');
  expect(generated.PasswordLength).toBe(64);
});

test('the secret resource carries exactly these settings, is retained, and has no JSON template', () => {
  const stack = unitTestStack();
  new InstanceSecret(stack, 'InstanceSecret');
  const template = Template.fromStack(stack);
  template.hasResource('AWS::SecretsManager::Secret', {
    DeletionPolicy: 'Retain',
    Properties: {
      GenerateSecretString: {
        PasswordLength: 64,
        ExcludeCharacters: NON_HEX_PRINTABLE_CHARACTERS,
        ExcludePunctuation: true,
        ExcludeUppercase: true,
        ExcludeLowercase: false,
        ExcludeNumbers: false,
        IncludeSpace: false,
        RequireEachIncludedType: false,
      },
    },
  });
  const generator = (Object.values(template.toJSON().Resources)[0] as any).Properties.GenerateSecretString;
  expect(generator.SecretStringTemplate).toBeUndefined();
  expect(generator.GenerateStringKey).toBeUndefined();
});

test('with the AWS managed key, the acknowledgment says who can really read the secret', () => {
  const stack = unitTestStack();
  const secret = new InstanceSecret(stack, 'InstanceSecret').secret;
  const reasons = acknowledgmentsUnder(secret)
    .filter(({ id }) => id.endsWith('SecretsManagerUsingKMSKey'))
    .map(({ reason }) => reason);
  expect(reasons.length).toBeGreaterThan(0);
  for (const reason of reasons) {
    // The AWS managed key restricts nobody: no claim that only the execution role can read it.
    expect(reason).not.toMatch(/readable only by|only the (task )?execution role can/i);
    expect(reason).toContain('grants secretsmanager:GetSecretValue on the secret only to the task execution role');
    expect(reason).toContain('any other principal of this account reads it only through an IAM policy that allows GetSecretValue on it');
  }
});

test('instanceSecretReaderArns: the secret\'s policy denies reading to all but the execution role and the named roles', () => {
  const stack = unitTestStack();
  const backend = new ConvexBackendTaskDefinition(stack, 'Backend', {
    storage: new ConvexStorage(stack, 'Storage'), ephemeralData: true, cloudOrigin: 'https://a.example.com', siteOrigin: 'https://s.example.com',
    instanceSecretReaderArns: ['arn:aws:iam::123456789012:role/convex-operators'],
  });
  const policies = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, any>).filter((r) => r.Type === 'AWS::SecretsManager::ResourcePolicy');
  expect(policies).toHaveLength(1);
  expect(policies[0].Properties.SecretId).toEqual(stack.resolve(backend.instanceSecret.secretArn));
  expect(policies[0].Properties.ResourcePolicy.Statement).toEqual([{
    Sid: 'DenyReadingExceptNamedRoles',
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'secretsmanager:GetSecretValue',
    Resource: '*',
    Condition: { ArnNotEquals: { 'aws:PrincipalArn': [stack.resolve(backend.executionRole.roleArn), 'arn:aws:iam::123456789012:role/convex-operators'] } },
  }]);
  // Without the prop, no resource policy (IAM policies decide, as before).
  const plain = unitTestStack();
  new ConvexBackendTaskDefinition(plain, 'Backend', { storage: new ConvexStorage(plain, 'Storage'), ephemeralData: true, cloudOrigin: 'https://a.example.com', siteOrigin: 'https://s.example.com' });
  Template.fromStack(plain).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
});

test('instanceSecretReaderArns from context: a list of role or user ARNs, anything else named', () => {
  const read = (value: unknown) => () => readAppConfig(testApp({ ecs: 'true', instanceSecretReaderArns: value }));
  expect(read('arn:aws:iam::123456789012:role/ops, arn:aws:iam::123456789012:user/alice')().backend?.instanceSecretReaderArns)
    .toEqual(['arn:aws:iam::123456789012:role/ops', 'arn:aws:iam::123456789012:user/alice']);
  expect(read('ops')).toThrow("instanceSecretReaderArns: 'ops' is not valid; expected the ARN of an IAM role or user");
});
