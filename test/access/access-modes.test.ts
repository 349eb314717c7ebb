/**
 * The stack's two access modes: role and IAM user, their outputs, the `.env` block, the secret
 * handling and cdk-nag. Each variant is synthesized once and shared by its tests.
 */
import { App, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BackendAccessMode } from '../../lib/access/access-options';
import { DOTENV_OUTPUT_MAX_LENGTH, parseSecretPlaceholder } from '../../lib/access/backend-dotenv';
import { readAppConfig } from '../../lib/app/app-config';
import { parseDotEnv } from '../../lib/dotenv';
import { ConvexStorageStack, ConvexStorageStackProps } from '../../lib/stack/convex-storage-stack';
import { ConvexStorage, StorageEncryption, StorageLayout } from '../../lib/storage/convex-storage';
import { ConvexBackendVpc } from '../../lib/ecs/backend-vpc';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { acknowledgmentsUnder, nagFindings, testOutdir, unitTestApp, unitTestStack } from '../helpers/cdk-app';

interface Variant {
  readonly app: App;
  readonly stack: ConvexStorageStack;
  readonly json: Record<string, any>;
  readonly template: Template;
}

const VARIANTS: Record<string, ConvexStorageStackProps> = {
  role: {},
  roleKms: { storage: { encryption: StorageEncryption.KMS }, trustedPrincipal: 'ec2.amazonaws.com' },
  user: { access: BackendAccessMode.USER },
  userKms: { access: BackendAccessMode.USER, storage: { encryption: StorageEncryption.KMS, instanceName: 'my-app' } },
  userSingle: { access: BackendAccessMode.USER, storage: { layout: StorageLayout.SINGLE } },
  userRotating: { access: BackendAccessMode.USER, accessKeySerial: 2, previousAccessKeySerial: 1 },
};

const built = new Map<string, Variant>();
function variant(name: keyof typeof VARIANTS & string): Variant {
  if (!built.has(name)) {
    const app = unitTestApp();
    const stack = new ConvexStorageStack(app, `S${name}`, VARIANTS[name]);
    const template = Template.fromStack(stack);
    built.set(name, { app, stack, template, json: template.toJSON() });
  }
  return built.get(name)!;
}

const ofType = (v: Variant, type: string) => Object.entries(v.json.Resources as Record<string, any>).filter(([, r]) => r.Type === type);
const STORAGE_OUTPUTS = ['AwsRegion', 'S3StorageExportsBucket', 'S3StorageSnapshotImportsBucket', 'S3StorageModulesBucket', 'S3StorageFilesBucket', 'S3StorageSearchBucket'];

/** Parses the `DotEnv` output: each CloudFormation reference becomes `{{<its JSON>}}`. */
function dotEnvOf(v: Variant): { text: string; values: Map<string, string> } {
  const value = v.json.Outputs.DotEnv.Value;
  const parts: unknown[] = value['Fn::Join'][1];
  expect(value['Fn::Join'][0]).toBe('');
  const text = parts.map((p) => (typeof p === 'string' ? p : `{{${JSON.stringify(p)}}}`)).join('');
  return { text, values: parseDotEnv(text) };
}
const ref = (v: Variant, token: string) => `{{${JSON.stringify(v.stack.resolve(token))}}}`;

describe('role mode (default)', () => {
  test('a role trusted by ECS tasks of this account holds the managed policy; no key, user or secret', () => {
    const v = variant('role');
    const roles = ofType(v, 'AWS::IAM::Role');
    expect(roles).toHaveLength(1);
    const [, role] = roles[0];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']] } },
      },
    }]);
    expect(role.Properties.ManagedPolicyArns).toEqual([v.stack.resolve(v.stack.storage.backendAccessPolicy.managedPolicyArn)]);
    for (const type of ['AWS::IAM::User', 'AWS::IAM::AccessKey', 'AWS::SecretsManager::Secret', 'AWS::IAM::Policy']) {
      expect(ofType(v, type)).toEqual([]);
    }
    expect(v.stack.backendRole).toBeDefined();
    expect(v.stack.backendUser).toBeUndefined();
  });

  test('outputs the storage variables, the role ARN and a DotEnv without keys', () => {
    const v = variant('role');
    expect(Object.keys(v.json.Outputs)).toEqual([...STORAGE_OUTPUTS, 'BackendRoleArn', 'DotEnv']);
    expect(v.json.Outputs.BackendRoleArn.Value).toEqual(v.stack.resolve(v.stack.backendRole!.roleArn));
    const { values } = dotEnvOf(v);
    expect(Object.fromEntries(values)).toEqual({
      AWS_REGION: '{{{"Ref":"AWS::Region"}}}',
      ...Object.fromEntries(STORAGE_KINDS.map((k) => [k.envVar, ref(v, v.stack.storage.bucket(k.kind).bucketName)])),
    });
  });

  test('another trusted principal gets no ECS-specific condition; KMS adds AWS_S3_DISABLE_SSE=true to DotEnv', () => {
    const v = variant('roleKms');
    const [, role] = ofType(v, 'AWS::IAM::Role')[0];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }]);
    expect(v.json.Outputs.AwsS3DisableSse.Value).toBe('true');
    const { text, values } = dotEnvOf(v);
    expect(text).toContain('\nAWS_S3_DISABLE_SSE=true\n');
    expect(values.get('AWS_S3_DISABLE_SSE')).toBe('true');
    expect([...values.keys()]).not.toContain('AWS_ACCESS_KEY_ID');
  });

  test('an EC2 role comes with the instance profile an instance needs; an ECS role has none', () => {
    const ec2 = variant('roleKms');
    const [[, profile]] = ofType(ec2, 'AWS::IAM::InstanceProfile');
    expect(profile.Properties.Roles).toEqual([ec2.stack.resolve(ec2.stack.backendRole!.roleName)]);
    expect(ec2.json.Outputs.BackendInstanceProfileName.Value).toEqual({ Ref: expect.stringMatching(/InstanceProfile/) });
    expect(ofType(variant('role'), 'AWS::IAM::InstanceProfile')).toEqual([]);
  });
});

describe('user mode', () => {
  test('a user in a group that holds the policy, one access key, the secret built from its attribute', () => {
    const v = variant('user');
    const [[groupId, group]] = ofType(v, 'AWS::IAM::Group');
    const [[userId, user]] = ofType(v, 'AWS::IAM::User');
    const keys = ofType(v, 'AWS::IAM::AccessKey');
    const [[secretId, secret]] = ofType(v, 'AWS::SecretsManager::Secret');
    expect(group.Properties.ManagedPolicyArns).toEqual([v.stack.resolve(v.stack.storage.backendAccessPolicy.managedPolicyArn)]);
    expect(user.Properties).toEqual({ Groups: [{ Ref: groupId }], Tags: [{ Key: 'application', Value: 'convex' }] });
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0];
    expect(key.Properties).toEqual({ Serial: 1, UserName: { Ref: userId } });
    expect(secret.Properties.SecretString).toEqual({
      'Fn::Join': ['', ['{"AWS_ACCESS_KEY_ID":"', { Ref: keyId }, '","AWS_SECRET_ACCESS_KEY":"', { 'Fn::GetAtt': [keyId, 'SecretAccessKey'] }, '"}']],
    });
    expect(secret.Properties.KmsKeyId).toBeUndefined();
    expect(v.json.Resources[secretId].DeletionPolicy).toBe('Delete');
    expect(ofType(v, 'AWS::IAM::Role')).toEqual([]);
    expect(ofType(v, 'AWS::IAM::Policy')).toEqual([]);
  });

  test('no plaintext secret anywhere: the secret access key is referenced only inside the secret', () => {
    for (const name of ['user', 'userKms', 'userSingle', 'userRotating'] as const) {
      const v = variant(name);
      const [[secretId]] = ofType(v, 'AWS::SecretsManager::Secret');
      const { [secretId]: secret, ...others } = v.json.Resources;
      expect(JSON.stringify(secret)).toContain('"SecretAccessKey"');
      // Any reference form (GetAtt, Fn::Sub's ${Key.SecretAccessKey}), but not the output name AwsSecretAccessKeySecretArn.
      expect(JSON.stringify(others)).not.toMatch(/SecretAccessKey(?!Secret)/);
      expect(JSON.stringify(v.json.Outputs)).not.toMatch(/\.SecretAccessKey|"SecretAccessKey"/);
      for (const parameter of Object.values((v.json.Parameters ?? {}) as Record<string, any>)) {
        expect(JSON.stringify(parameter)).not.toMatch(/SecretAccessKey|AWS_SECRET_ACCESS_KEY/);
      }
      expect(Object.keys(v.json.Parameters ?? {})).toEqual(['BootstrapVersion']);
      // No literal that looks like an AWS key or secret key.
      expect(JSON.stringify(v.json)).not.toMatch(/AKIA[0-9A-Z]{16}|"[A-Za-z0-9/+]{40}"/);
    }
  });

  test('outputs the key ID, the secret ARN and DotEnv with a placeholder naming the secret', () => {
    const v = variant('user');
    const user = v.stack.backendUser!;
    expect(Object.keys(v.json.Outputs)).toEqual([...STORAGE_OUTPUTS, 'AwsAccessKeyId', 'AwsSecretAccessKeySecretArn', 'DotEnv']);
    expect(v.json.Outputs.AwsAccessKeyId.Value).toEqual(v.stack.resolve(user.accessKey.accessKeyId));
    expect(v.json.Outputs.AwsSecretAccessKeySecretArn.Value).toEqual(v.stack.resolve(user.secret.secretArn));
    expect(v.json.Outputs.AwsAccessKeyId.Description).toMatch(/^AWS_ACCESS_KEY_ID: /);
    expect(v.json.Outputs.AwsSecretAccessKeySecretArn.Description).toMatch(/^AWS_SECRET_ACCESS_KEY: ARN of the Secrets Manager secret/);
    const { values } = dotEnvOf(v);
    expect(Object.fromEntries(values)).toEqual({
      AWS_REGION: '{{{"Ref":"AWS::Region"}}}',
      ...Object.fromEntries(STORAGE_KINDS.map((k) => [k.envVar, ref(v, v.stack.storage.bucket(k.kind).bucketName)])),
      AWS_ACCESS_KEY_ID: ref(v, user.accessKey.accessKeyId),
      AWS_SECRET_ACCESS_KEY: `<read from Secrets Manager secret ${ref(v, user.secret.secretArn)}>`,
    });
  });

  test('KMS: the secret is encrypted with the storage key, and DotEnv adds AWS_S3_DISABLE_SSE=true and INSTANCE_NAME', () => {
    const v = variant('userKms');
    const [[, secret]] = ofType(v, 'AWS::SecretsManager::Secret');
    expect(secret.Properties.KmsKeyId).toEqual(v.stack.resolve(v.stack.storage.encryptionKey!.keyArn));
    const { text, values } = dotEnvOf(v);
    expect([...values.keys()]).toEqual([
      'AWS_REGION', ...STORAGE_KINDS.map((k) => k.envVar), 'AWS_S3_DISABLE_SSE', 'INSTANCE_NAME', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
    ]);
    expect(text).toContain('\nAWS_S3_DISABLE_SSE=true\n');
    expect(values.get('INSTANCE_NAME')).toBe('my-app');
  });

  test('single layout: all five variables name the one bucket', () => {
    const v = variant('userSingle');
    const { values } = dotEnvOf(v);
    const bucket = ref(v, v.stack.storage.bucket('files').bucketName);
    for (const spec of STORAGE_KINDS) expect(values.get(spec.envVar)).toBe(bucket);
  });

  test('rotation: serial N+1 is a new key written to the secret while key N keeps its logical ID', () => {
    const before = variant('user');
    const during = variant('userRotating');
    const keyIds = (v: Variant) => ofType(v, 'AWS::IAM::AccessKey').map(([id, r]) => [id, r.Properties.Serial]);
    const [[firstId]] = keyIds(before);
    expect(keyIds(during)).toEqual(expect.arrayContaining([[firstId, 1], [expect.not.stringMatching(firstId), 2]]));
    expect(keyIds(during)).toHaveLength(2);
    const current = during.stack.resolve(during.stack.backendUser!.accessKey.accessKeyId);
    expect(current).not.toEqual({ Ref: firstId });
    const [[, secret]] = ofType(during, 'AWS::SecretsManager::Secret');
    expect(secret.Properties.SecretString['Fn::Join'][1][1]).toEqual(current);
    expect(during.json.Outputs.AwsAccessKeyId.Value).toEqual(current);
  });

  test('DotEnv stays under the output limit even with the longest names', () => {
    const { text } = dotEnvOf(variant('userKms'));
    // Worst case: 63-character bucket names (the S3 maximum), a long region, a 20-character key
    // ID (AKIA + 16), a secret name far longer than the generated `<LogicalId>-<random>`.
    const worst = text
      .replace('{{{"Ref":"AWS::Region"}}}', 'ap-southeast-5')
      .replace(/\{\{\{"Ref":"Storage\w+"\}\}\}/g, 'b'.repeat(63))
      .replace(/\{\{\{"Ref":"\w*AccessKey\w*"\}\}\}/, 'AKIA' + 'X'.repeat(16))
      .replace(/\{\{\{"Ref":"\w*Secret\w*"\}\}\}/, `arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:${'S'.repeat(100)}-AbCdEf`);
    expect(worst).not.toContain('{{');
    expect(worst.length).toBeLessThan(DOTENV_OUTPUT_MAX_LENGTH);
    expect(parseSecretPlaceholder(parseDotEnv(worst).get('AWS_SECRET_ACCESS_KEY')!)).toMatch(/^arn:aws-us-gov:secretsmanager:/);
  });
});

describe('cdk-nag', () => {
  test.each(Object.keys(VARIANTS))('%s: zero unacknowledged findings in all four packs', (name) => {
    expect(nagFindings(variant(name).app)).toEqual([]);
  });

  test('every acknowledgment has a reason, and the user-mode ones answer what they should', () => {
    const acks = new Map<string, string>();
    for (const name of Object.keys(VARIANTS)) {
      for (const { path, id, reason } of acknowledgmentsUnder(variant(name).stack)) {
        expect(reason.trim().length).toBeGreaterThan(80);
        acks.set(`${path.replace(/^S\w+\//, '')} ${id.replace(/^annotation::/i, '')}`, reason);
      }
    }
    const secretAcks = [...acks.entries()].filter(([key]) => key.startsWith('BackendUser/AccessKeySecret '));
    expect(secretAcks.map(([key]) => key.split(' ')[1]).sort()).toEqual([
      'AwsSolutions-SMG4',
      'HIPAA.Security-SecretsManagerRotationEnabled',
      'HIPAA.Security-SecretsManagerUsingKMSKey',
      'NIST.800.53.R5-SecretsManagerRotationEnabled',
      'NIST.800.53.R5-SecretsManagerUsingKMSKey',
      'PCI.DSS.321-SecretsManagerRotationEnabled',
      'PCI.DSS.321-SecretsManagerUsingKMSKey',
    ]);
    expect(acks.get('BackendUser/AccessKeySecret AwsSolutions-SMG4')).toMatch(/accessKeySerial=N\+1 -c previousAccessKeySerial=N.*accessKeySerial=N\+1 alone/);
    // Nothing about IAM users, groups, inline policies or the role is acknowledged: they pass by configuration.
    expect([...acks.keys()].filter((key) => /IAMUser|IAMNoInline|IAMGroup|IAMPolicyNo/.test(key))).toEqual([]);
  });
});

describe('validation errors', () => {
  test('the stack rejects settings of the other mode and bad values, listing each', () => {
    expect(() => new ConvexStorageStack(unitTestApp(), 'A', { accessKeySerial: 2, trustedPrincipal: 'arn:aws:iam::123456789012:root' }))
      .toThrow(/Invalid ConvexStorageStack properties at A:\n  - accessKeySerial and previousAccessKeySerial apply to access user only.*\n  - trustedPrincipal 'arn:aws:iam::123456789012:root' is an ARN or an account/);
    expect(() => new ConvexStorageStack(unitTestApp(), 'B', { access: BackendAccessMode.USER, accessKeySerial: 2, previousAccessKeySerial: 2 }))
      .toThrow(/previousAccessKeySerial is 2, the same as accessKeySerial/);
    expect(() => new ConvexStorageStack(unitTestApp(), 'C', { access: BackendAccessMode.USER, accessKeySerial: 1.5 }))
      .toThrow(/accessKeySerial must be a whole number, 1 or more \(got 1\.5\)/);
  });

  test('the app reports every bad context value at once, naming the key', () => {
    const read = (context: Record<string, unknown>) => () => readAppConfig(new Stack(new App({ context, outdir: testOutdir() }), 'Probe'));
    let message = '';
    try {
      read({ access: 'iam', trustedPrincipal: 'ecs', accessKeySerial: 'two', instanceName: 'My_App' })();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("access: 'iam' is not valid; accepted values are 'role', 'user'.");
    expect(message).toContain("trustedPrincipal 'ecs' does not look like a service principal");
    expect(message).toContain("accessKeySerial: 'two' is not valid; expected a whole number, 1 or more.");
    expect(message).toContain("instanceName: 'My_App' must start with a lowercase letter");
    expect(read({ access: 'user', trustedPrincipal: 'ec2.amazonaws.com' })).toThrow(/trustedPrincipal applies to access role only/);
    expect(read({ access: 'user', accessKeySerial: '3', previousAccessKeySerial: '3' })).toThrow(/previousAccessKeySerial is 3, the same as accessKeySerial/);
    expect(read({ accessKeySerial: '0' })).toThrow(/accessKeySerial: '0' is not valid; expected a whole number, 1 or more\./);
  });

  test('the app reads valid access context into the stack settings', () => {
    const config = readAppConfig(new Stack(new App({ context: { access: 'user', accessKeySerial: '3', previousAccessKeySerial: 2, instanceName: 'prod-app' }, outdir: testOutdir() }), 'Probe'));
    expect(config.access).toEqual({ mode: 'user', trustedPrincipal: undefined, accessKeySerial: 3, previousAccessKeySerial: 2, ecsTaskDefinition: false, vpcEndpointRestricted: false });
    expect(config.storage.instanceName).toBe('prod-app');
    expect(readAppConfig(new Stack(new App({ outdir: testOutdir() }), 'P')).access.mode).toBe(BackendAccessMode.ROLE);
  });
});

describe('confused-deputy conditions on every service trust policy', () => {
  test('the replication role trusts S3 only for buckets of this account, the flow-log role only this account\'s flow logs', () => {
    const stack = unitTestStack();
    const destination = s3.Bucket.fromBucketArn(stack, 'Dest', 'arn:aws:s3:::replica-bucket');
    new ConvexStorage(stack, 'Storage', { replication: { destinations: { files: destination } } });
    new ConvexBackendVpc(stack, 'Network');
    const roles = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, any>).filter((r) => r.Type === 'AWS::IAM::Role');
    const trustOf = (service: string) => roles.map((r) => r.Properties.AssumeRolePolicyDocument.Statement[0]).find((st) => st.Principal.Service === service);
    expect(trustOf('s3.amazonaws.com').Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*']] } },
    });
    expect(trustOf('vpc-flow-logs.amazonaws.com').Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':vpc-flow-log/*']] } },
    });
  });
});
