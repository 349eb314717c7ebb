/**
 * The deployable app with `ecs=true`: the shared variants of test/helpers/variants.ts (their
 * cdk-nag and validation checks are in test/app/variants.test.ts) and the ECS context keys.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexOnMyClusterStack } from '../../examples/backend-on-your-cluster';
import { BACKEND_OUTPUTS, ConvexBackend, ConvexDatabaseEngine } from '../../lib';
import { CONTEXT_KEYS, readAppConfig } from '../../lib/app/app-config';
import { BACKEND_CONTEXT_KEYS } from '../../lib/app/backend-context';
import { testApp, unitTestApp } from '../helpers/cdk-app';
import { SynthesizedVariant, synthesizedVariant as variant } from '../helpers/variants';

function findings(app: SynthesizedVariant): Array<Record<string, any>> {
  return app.findings;
}

test('every acknowledgment under the backend has a reason', () => {
  for (const name of ['ecs', 'ecs-full', 'ecs-destroy', 'ecs-database-url'] as const) {
    const { acknowledgments, stackName } = variant(name);
    const acks = acknowledgments.filter((a) => a.path.startsWith(`${stackName}/Backend/`));
    expect(acks.length).toBeGreaterThan(0);
    for (const { reason } of acks) {
      expect(reason.trim().length).toBeGreaterThan(80);
    }
  }
});

test('ecs=true alone: a VPC with flow logs and an EFS volume, outputs for the service, only the origins warning', () => {
  const app = variant('ecs');
  const template = Template.fromJSON(app.templateJson);
  template.resourceCountIs('AWS::ECS::TaskDefinition', 1);
  template.resourceCountIs('AWS::EFS::FileSystem', 1);
  template.resourceCountIs('AWS::EC2::FlowLog', 1);
  template.resourceCountIs('AWS::EC2::NatGateway', 1);
  template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  expect(Object.keys(app.templateJson.Outputs)).toEqual(expect.arrayContaining([
    'BackendTaskDefinitionArn', 'BackendTaskRoleArn', 'BackendInstanceSecretArn', 'BackendImage', 'BackendLogGroupName',
    'BackendDataFileSystemId', 'BackendSecurityGroupId', 'BackendVpcId', 'BackendPrivateSubnetIds',
  ]));
  expect(findings(app).map((f) => f.ruleName)).toEqual(['Annotation::cdk-convex-storage:local-origins']);
  // Only the plain-environment rule is acknowledged on the task definition, with that reason.
  const acks = app.acknowledgments.filter((a) => a.path === `${app.stackName}/Backend/Backend/TaskDefinition`);
  expect(acks.map((a) => a.id.replace(/^Annotation::/, ''))).toEqual(['AwsSolutions-ECS2']);
  expect(acks[0].reason).toContain('hold no secrets');
});

test('the full app: KMS everywhere, no access key reaches the task, and the dashboard runs on the same version', () => {
  const app = variant('ecs-full');
  const td = Object.values(app.templateJson.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any;
  const [backend, dashboard] = td.Properties.ContainerDefinitions;
  const env = Object.fromEntries(backend.Environment.map((e: any) => [e.Name, e.Value]));
  expect(env).toMatchObject({ INSTANCE_NAME: 'acme-prod', AWS_S3_DISABLE_SSE: 'true', CONVEX_CLOUD_ORIGIN: 'https://api.convex.example.com' });
  // What `convex-storage admin-key --stack` reads: the name the task runs with, the secret by ARN only.
  expect(app.templateJson.Outputs[BACKEND_OUTPUTS.instanceName].Value).toBe(env.INSTANCE_NAME);
  const secretRef = backend.Secrets.find((s: any) => s.Name === 'INSTANCE_SECRET').ValueFrom;
  expect(app.templateJson.Outputs[BACKEND_OUTPUTS.instanceSecretArn].Value).toEqual(secretRef);
  expect(JSON.stringify(td)).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
  expect(dashboard.Image.split(':')[1]).toBe(backend.Image.split(':')[1]);
  for (const type of ['AWS::Logs::LogGroup', 'AWS::EFS::FileSystem']) {
    for (const r of Object.values(app.templateJson.Resources).filter((x: any) => x.Type === type) as any[]) {
      expect(r.Properties.KmsKeyId).toBeDefined();
    }
  }
  // Both log groups (containers, flow logs) are named under one prefix, and the key lets
  // CloudWatch Logs use it for that prefix only: one statement.
  const logGroups = Object.values(app.templateJson.Resources).filter((r: any) => r.Type === 'AWS::Logs::LogGroup') as any[];
  expect(logGroups).toHaveLength(2);
  for (const group of logGroups) {
    expect(group.Properties.LogGroupName['Fn::Join'][1][0]).toMatch(/^\/convex\/ConvexStorage-dev\/Backend-(Backend-Logs|Network-FlowLogs)-$/);
  }
  const key = Object.values(app.templateJson.Resources).find((r: any) => r.Type === 'AWS::KMS::Key') as any;
  const logsStatements = key.Properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes('logs.'));
  expect(logsStatements).toHaveLength(1);
  expect(logsStatements[0].Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']['Fn::Join'][1].slice(-1)[0]).toBe(':log-group:/convex/ConvexStorage-dev/*');
  // The one warning: the dashboard container shares the backend's role (service=true runs it apart).
  expect(findings(app).map((f) => f.ruleName)).toEqual(['Annotation::cdk-convex-storage:dashboard-in-backend-task']);
});

test('context: every backend key is documented, ecs-only keys are rejected without ecs=true, bad values are named', () => {
  for (const key of BACKEND_CONTEXT_KEYS) {
    expect(CONTEXT_KEYS).toContainEqual(key);
  }
  const read = (context: Record<string, unknown>) => () => readAppConfig(testApp(context));
  expect(read({ cloudOrigin: 'https://a.example.com' })).toThrow('cloudOrigin: only applies with ecs=true');
  expect(read({ ecs: 'yes' })).toThrow("ecs: 'yes' is not valid; accepted values are 'true', 'false'.");
  const message = (() => {
    try {
      read({ ecs: 'true', cloudOrigin: 'https://a.example.com/x', imageTag: 'a:b', cpu: '3', cpuArchitecture: 'arm', databaseUrlSecretArn: 'convex-db', databaseEngine: 'oracle' })();
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  })();
  for (const key of ['cloudOrigin', 'imageTag', 'cpu', 'cpuArchitecture', 'databaseUrlSecretArn', 'databaseEngine']) {
    expect(message).toContain(`  - ${key}: `);
  }
  expect(read({ ecs: 'true', memory: '1024' })).toThrow("memory: '1024' is not valid with cpu 1024");
  expect(read({ ecs: 'true', ephemeralData: 'true', databaseUrlSecretArn: COMPLETE_SECRET_ARN })).toThrow('ephemeralData: the data lives in the database');
  expect(readAppConfig(testApp({ ecs: 'true', databaseUrlSecretArn: COMPLETE_SECRET_ARN, databaseEngine: 'mysql' })).backend)
    .toMatchObject({ databaseUrlSecretArn: COMPLETE_SECRET_ARN, databaseEngine: 'mysql' });
  expect(readAppConfig(testApp()).backend).toBeUndefined();
});

test('context: disableBeacon, redactLogsToClient and metricsEndpoint reach the task, the presence flags only when true', () => {
  const backendEnv = (templateJson: Record<string, any>): Record<string, string> => {
    const def = Object.values(templateJson.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any;
    const backend = def.Properties.ContainerDefinitions.find((c: any) => c.Name === 'convex-backend');
    return Object.fromEntries(backend.Environment.map((e: any) => [e.Name, e.Value]));
  };
  // The full app, as cdk synth builds it.
  expect(backendEnv(variant('ecs-full').templateJson)).toMatchObject({ DISABLE_BEACON: 'true', REDACT_LOGS_TO_CLIENT: 'true', DISABLE_METRICS_ENDPOINT: 'true' });
  const bare = backendEnv(variant('ecs').templateJson);
  expect(bare.DISABLE_METRICS_ENDPOINT).toBe('true');
  expect(bare).not.toHaveProperty('DISABLE_BEACON');
  expect(bare).not.toHaveProperty('REDACT_LOGS_TO_CLIENT');
  // Read from context: booleans, `false` kept as false (the construct then leaves the variable out).
  const read = (context: Record<string, unknown>) => readAppConfig(testApp({ ecs: 'true', ...context })).backend;
  expect(read({ disableBeacon: 'false', redactLogsToClient: false, metricsEndpoint: 'true' })).toMatchObject({ disableBeacon: false, redactLogsToClient: false, metricsEndpoint: true });
  expect(() => read({ disableBeacon: 'yes' })).toThrow("disableBeacon: 'yes' is not valid; accepted values are 'true', 'false'.");
  expect(() => readAppConfig(testApp({ metricsEndpoint: 'true' }))).toThrow('metricsEndpoint: only applies with ecs=true');
});

test('context: siteOrigin may carry a path (one domain), cloudOrigin may not', () => {
  const config = readAppConfig(testApp({ ecs: 'true', cloudOrigin: 'https://api.example.com', siteOrigin: 'https://api.example.com/http' }));
  expect(config.backend).toMatchObject({ cloudOrigin: 'https://api.example.com', siteOrigin: 'https://api.example.com/http' });
  expect(() => readAppConfig(testApp({ ecs: 'true', cloudOrigin: 'https://api.example.com/http' }))).toThrow("cloudOrigin: cloudOrigin 'https://api.example.com/http' must be an origin without a path");
});

test('context: imageTag takes a commit SHA, a digest or latest; v1.2 is rejected with the accepted forms', () => {
  const read = (imageTag: string) => () => readAppConfig(testApp({ ecs: 'true', imageTag }));
  expect(read('v1.2')).toThrow("imageTag: imageTag 'v1.2' is not a version upstream publishes: expected a full 40-character commit SHA");
  expect(read('v1.2')).toThrow("a digest 'sha256:' followed by 64 lowercase hex characters, or 'latest' (with a warning)");
  for (const imageTag of ['0'.repeat(40), `sha256:${'0'.repeat(64)}`, 'latest']) {
    expect(read(imageTag)().backend).toMatchObject({ imageTag });
  }
});

const COMPLETE_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbC12f';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

test('context: the database secret needs its complete ARN, and its key ARN only with it', () => {
  const read = (context: Record<string, unknown>) => () => readAppConfig(testApp({ ecs: 'true', ...context }));
  for (const partial of ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbC1', 'convex-db-AbC12f']) {
    expect(read({ databaseUrlSecretArn: partial })).toThrow(`databaseUrlSecretArn: '${partial}' is not valid; expected the complete ARN`);
  }
  expect(read({ databaseUrlSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db' })).toThrow('aws secretsmanager describe-secret --secret-id <name> --query ARN');
  expect(read({ databaseUrlSecretKeyArn: KEY_ARN })).toThrow('databaseUrlSecretKeyArn: only applies with databaseUrlSecretArn');
  expect(read({ databaseUrlSecretArn: COMPLETE_SECRET_ARN, databaseUrlSecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/db' })).toThrow("databaseUrlSecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/db' is not valid; expected the ARN of a KMS key");
  expect(read({ databaseUrlSecretArn: COMPLETE_SECRET_ARN, databaseUrlSecretKeyArn: KEY_ARN })().backend)
    .toMatchObject({ databaseUrlSecretArn: COMPLETE_SECRET_ARN, databaseUrlSecretKeyArn: KEY_ARN });
});

test('context and ConvexBackend report the database secret problems in the same words', () => {
  const problemsOf = (run: () => unknown): string[] => {
    try {
      run();
    } catch (e) {
      return (e as Error).message.split('\n').filter((line) => line.startsWith('  - ')).sort();
    }
    throw new Error('expected an error');
  };
  const cases: Array<Record<string, string>> = [
    { databaseUrlSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db' },
    { databaseUrlSecretArn: COMPLETE_SECRET_ARN, databaseUrlSecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/db' },
    { databaseUrlSecretKeyArn: KEY_ARN },
    { databaseUrlSecretKeyArn: KEY_ARN, databaseEngine: 'mysql' },
  ];
  for (const settings of cases) {
    const fromContext = problemsOf(() => readAppConfig(testApp({ ecs: 'true', ...settings })));
    const fromConstruct = problemsOf(() => new ConvexBackend(new Stack(unitTestApp(), 'Test'), 'Backend', {
      storage: { backendEnvironment: {}, grantBackendAccess: () => undefined },
      databaseUrlSecretArn: settings.databaseUrlSecretArn,
      databaseUrlSecretKeyArn: settings.databaseUrlSecretKeyArn,
      databaseEngine: settings.databaseEngine === undefined ? undefined : ConvexDatabaseEngine.MYSQL,
    }));
    expect(fromConstruct.length).toBeGreaterThan(0);
    expect(fromContext).toEqual(fromConstruct);
  }
});

test('context: the backend\'s resources follow the app\'s removalPolicy', () => {
  const backend = (context: Record<string, unknown>) => readAppConfig(testApp({ ecs: 'true', ...context })).backend;
  expect(backend({ removalPolicy: 'destroy' })?.removalPolicy).toBe(RemovalPolicy.DESTROY);
  expect(backend({ removalPolicy: 'retain' })?.removalPolicy).toBe(RemovalPolicy.RETAIN);
  expect(backend({})?.removalPolicy).toBeUndefined();
});

test('removalPolicy=destroy with KMS: the backend\'s resources go with the stack, the key that encrypted them stays', () => {
  const { templateJson } = variant('ecs-destroy');
  const resources = Object.values(templateJson.Resources) as Array<Record<string, any>>;
  const policies = (type: string) => resources.filter((r) => r.Type === type).map((r) => r.DeletionPolicy);
  expect(policies('AWS::KMS::Key')).toEqual(['Retain']);
  expect(policies('AWS::EFS::FileSystem')).toEqual(['Delete']);
  expect(policies('AWS::SecretsManager::Secret')).toEqual(['Delete']);
  expect(policies('AWS::Logs::LogGroup')).toEqual(['Delete', 'Delete']);
  for (const type of ['AWS::EFS::FileSystem', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
    for (const r of resources.filter((x) => x.Type === type)) expect(r.Properties.KmsKeyId).toBeDefined();
  }
});

test('the README example synthesizes: a service of one task on the existing cluster, with the data volume\'s security group', () => {
  const stack = new ConvexOnMyClusterStack(unitTestApp(), 'ConvexOnMyCluster', { env: { account: '123456789012', region: 'eu-west-1' } });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::ECS::Service', {
    Cluster: 'apps',
    DesiredCount: 1,
    DeploymentConfiguration: { MinimumHealthyPercent: 0, MaximumPercent: 100 },
  });
  template.resourceCountIs('AWS::EFS::MountTarget', 2);
});
