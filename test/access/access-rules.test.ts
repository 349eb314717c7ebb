import { aws_iam as iam } from 'aws-cdk-lib';
import { acknowledgeWildcardFindings } from '../../lib/compliance';
import { unitTestStack } from '../helpers/cdk-app';
import {
  BackendAccessMode,
  accessSettingsProblems,
  servicePrincipalProblems,
} from '../../lib/access/access-options';
import { parseSecretPlaceholder, renderBackendDotEnv, secretPlaceholder } from '../../lib/access/backend-dotenv';
import { parseDotEnv } from '../../lib/dotenv';
import { DEFAULT_INSTANCE_NAME, instanceDatabaseName, instanceNameProblems } from '../../lib/instance-name';

describe('instanceNameProblems', () => {
  test.each([DEFAULT_INSTANCE_NAME, 'a', 'my-app', 'prod2', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(instanceNameProblems(name)).toEqual([]);
  });

  test.each([
    ['', /is empty/],
    ['x'.repeat(64), /64 characters long; at most 63 .*Postgres/],
    ['1app', /must start with a lowercase letter/],
    ['-app', /must start with a lowercase letter/],
    ['My-App', /must start with a lowercase letter/],
    ['my-App', /contains 'A'; use only lowercase letters, digits and hyphens/],
    ['my_app', /contains '_'/],
    ['my.app', /contains '\.'/],
    ['app*', /contains '\*'.*IAM resource pattern/],
    ['prod:app', /contains ':'/],
    ['a|b', /contains '\|'.*admin key/],
    ['a/b c', /contains '\/', ' '/],
  ])('rejects %j', (name, message) => {
    const problems = instanceNameProblems(name);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(message);
  });

  test('the database name is the instance name with - turned into _', () => {
    expect(instanceDatabaseName(DEFAULT_INSTANCE_NAME)).toBe('convex_self_hosted');
  });
});

describe('servicePrincipalProblems', () => {
  test.each(['ecs-tasks.amazonaws.com', 'ec2.amazonaws.com', 'pods.eks.amazonaws.com', 'ec2.amazonaws.com.cn'])('accepts %s', (principal) => {
    expect(servicePrincipalProblems(principal)).toEqual([]);
  });

  test.each([
    ['arn:aws:iam::123456789012:role/x', /is an ARN or an account.*grantBackendAccess/],
    ['123456789012', /is an ARN or an account/],
    ['ecs-tasks', /does not look like a service principal/],
    ['ECS-TASKS.amazonaws.com', /does not look like a service principal/],
    ['ecs-tasks.amazonaws.com.evil.example', /does not look like a service principal/],
    ['*', /does not look like a service principal/],
  ])('rejects %s', (principal, message) => {
    expect(servicePrincipalProblems(principal).join('\n')).toMatch(message);
  });
});

describe('accessSettingsProblems', () => {
  test('the defaults of both modes are valid', () => {
    expect(accessSettingsProblems({ mode: BackendAccessMode.ROLE })).toEqual([]);
    expect(accessSettingsProblems({ mode: BackendAccessMode.USER })).toEqual([]);
    expect(accessSettingsProblems({ mode: BackendAccessMode.USER, accessKeySerial: 3, previousAccessKeySerial: 2 })).toEqual([]);
  });

  test('each bad combination is named', () => {
    expect(accessSettingsProblems({ mode: BackendAccessMode.ROLE, accessKeySerial: 2 })).toEqual([
      'accessKeySerial and previousAccessKeySerial apply to access user only: a role has no access keys. Set access to user or drop them.',
    ]);
    expect(accessSettingsProblems({ mode: BackendAccessMode.USER, trustedPrincipal: 'ec2.amazonaws.com' })).toEqual([
      'trustedPrincipal applies to access role only: the IAM user of access user is not assumed by a service. Set access to role or drop trustedPrincipal.',
    ]);
    expect(accessSettingsProblems({ mode: BackendAccessMode.ROLE, trustedPrincipal: 'ecs' })).toEqual([
      "trustedPrincipal 'ecs' does not look like a service principal; expected lowercase <service>.amazonaws.com (e.g. ecs-tasks.amazonaws.com, ec2.amazonaws.com).",
    ]);
    expect(accessSettingsProblems({ mode: BackendAccessMode.USER, accessKeySerial: 0 })).toEqual([
      'accessKeySerial must be a whole number, 1 or more (got 0).',
    ]);
    expect(accessSettingsProblems({ mode: BackendAccessMode.USER, previousAccessKeySerial: 1 })).toEqual([
      expect.stringMatching(/^previousAccessKeySerial is 1, the same as accessKeySerial/),
    ]);
  });
});

describe('the secret placeholder', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:BackendUserAccessKeySecret8C86E869-AbCdEf';

  test('names the secret, parses back, and cannot be a key', () => {
    const placeholder = secretPlaceholder(arn);
    expect(placeholder).toBe(`<read from Secrets Manager secret ${arn}>`);
    expect(parseSecretPlaceholder(placeholder)).toBe(arn);
    expect(placeholder).not.toMatch(/^[A-Za-z0-9/+]{40}$/);
    expect(parseSecretPlaceholder('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBeUndefined();
    expect(parseSecretPlaceholder('<read from Secrets Manager secret not-an-arn>')).toBeUndefined();
  });

  test('survives a round trip through a .env file', () => {
    const text = renderBackendDotEnv({ AWS_REGION: 'eu-west-1' }, { credentials: { accessKeyId: 'AKIAEXAMPLE', secretArn: arn } });
    const values = parseDotEnv(text);
    expect(parseSecretPlaceholder(values.get('AWS_SECRET_ACCESS_KEY') as string)).toBe(arn);
    expect([...values.keys()]).toEqual(['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  });
});

test('the compliance helper refuses to acknowledge Resource \'*\'', () => {
  const stack = unitTestStack();
  const document = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['kms:Encrypt'], resources: ['*'] })] });
  const policy = new iam.ManagedPolicy(stack, 'P', { document });
  expect(() => acknowledgeWildcardFindings(policy, document, 'a reason')).toThrow("grants \"kms:Encrypt\" on Resource '*', which is never acknowledged");
  // A scoped wildcard is still acknowledged, one finding at a time.
  const scoped = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] })] });
  expect(() => acknowledgeWildcardFindings(new iam.ManagedPolicy(stack, 'Q', { document: scoped }), scoped, 'a reason')).not.toThrow();
  // Only a Lambda function's own network interfaces, which exist only once Lambda makes them, may be '*'.
  const eni = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeSubnets'], resources: ['*'] })] });
  expect(() => acknowledgeWildcardFindings(new iam.ManagedPolicy(stack, 'R', { document: eni }), eni, 'a reason')).not.toThrow();
  const mixed = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['ec2:CreateNetworkInterface', 's3:GetObject'], resources: ['*'] })] });
  expect(() => acknowledgeWildcardFindings(new iam.ManagedPolicy(stack, 'S', { document: mixed }), mixed, 'a reason')).toThrow("on Resource '*'");
});
