/**
 * The backend's task definition, container by container and field by field. Each variant is
 * built once (unit apps, no CloudFormation validation) and shared by its tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnElement, Stack, aws_ec2 as ec2, aws_ecs as ecs, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  ConvexBackendTaskDefinition, ConvexDatabaseEngine, ConvexStorage, DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB, DEFAULT_CONVEX_IMAGE_TAG,
  STORAGE_KINDS, StorageEncryption,
} from '../../lib';
import { EntrypointStep, entrypointCommand } from '../../lib/ecs/entrypoint/backend-entrypoint';
import { DATABASE_CA_BUNDLE_VARIABLE, databaseCaFileStep } from '../../lib/ecs/entrypoint/database-ca-bundle';
import { unitTestStack } from '../helpers/cdk-app';

/** Pseudo parameters of a deployment, for evaluating intrinsic functions. */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::StackName': 'Test',
  'AWS::StackId': 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Test/51af3dc0-da77-11e4-872e-1234567db123',
};

/** Evaluates Ref (pseudo parameters), Fn::Join, Fn::Split and Fn::Select. */
function evaluate(value: any): any {
  if (typeof value === 'string') return value;
  if (value.Ref) return PSEUDO[value.Ref] ?? fail(`no value for ${value.Ref}`);
  if (value['Fn::Join']) return (value['Fn::Join'][1] as any[]).map(evaluate).join(value['Fn::Join'][0]);
  if (value['Fn::Split']) return (evaluate(value['Fn::Split'][1]) as string).split(value['Fn::Split'][0]);
  if (value['Fn::Select']) return evaluate(value['Fn::Select'][1])[Number(value['Fn::Select'][0])];
  return fail(`cannot evaluate ${JSON.stringify(value)}`);
}

function fail(message: string): never {
  throw new Error(message);
}

/** IAM's ArnLike: the six colon-separated parts compared one by one, `*` and `?` as wildcards. */
function arnLike(pattern: string, arn: string): boolean {
  const split = (s: string) => {
    const parts = s.split(':');
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const [p, a] = [split(pattern), split(arn)];
  const glob = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return p.length === a.length && p.every((part, i) => glob(part).test(a[i]));
}

const CLOUD = 'https://api.convex.example.com';
const SITE = 'https://site.convex.example.com';

interface Variant {
  readonly stack: Stack;
  readonly backend: ConvexBackendTaskDefinition;
  readonly template: Template;
  readonly json: Record<string, any>;
}

function build(make: (stack: Stack) => ConvexBackendTaskDefinition): Variant {
  const stack = unitTestStack();
  const backend = make(stack);
  const template = Template.fromStack(stack);
  return { stack, backend, template, json: template.toJSON() };
}

const TEST_CA_BUNDLE = readFileSync(join(__dirname, '..', 'fixtures', 'database-ca-bundle.pem'), 'utf8');
const FIRST_STEP: EntrypointStep = { description: 'a step given as a prop', script: 'export FIRST=1' };
const LATE_STEP: EntrypointStep = { description: 'a step added after construction', script: 'export LATE="$FIRST"' };

/** Adds {@link LATE_STEP} once the task definition is built, as the database wiring does. */
function withLateStep(backend: ConvexBackendTaskDefinition): ConvexBackendTaskDefinition {
  backend.addStartupStep(LATE_STEP);
  return backend;
}

let cached: Record<string, Variant> | undefined;
function variants(): Record<string, Variant> {
  cached ??= {
    // SQLite on EFS, dashboard, all flags on, SSE-S3.
    efs: build((stack) => new ConvexBackendTaskDefinition(stack, 'Backend', {
      storage: new ConvexStorage(stack, 'Storage', { instanceName: 'acme-prod' }),
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'App', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] }),
      cloudOrigin: CLOUD,
      siteOrigin: SITE,
      dashboard: true,
      disableBeacon: true,
      redactLogsToClient: true,
      doNotRequireSsl: true,
    })),
    // Postgres URL from a secret, KMS storage, flags explicitly off, Graviton.
    database: build((stack) => withLateStep(new ConvexBackendTaskDefinition(stack, 'Backend', {
      storage: new ConvexStorage(stack, 'Storage', { encryption: StorageEncryption.KMS }),
      database: {
        engine: ConvexDatabaseEngine.POSTGRES,
        urlSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Db', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbCdEf'),
      },
      cloudOrigin: CLOUD,
      siteOrigin: SITE,
      disableBeacon: false,
      redactLogsToClient: false,
      doNotRequireSsl: false,
      cpu: 2048,
      memoryLimitMiB: 8192,
      cpuArchitecture: ecs.CpuArchitecture.ARM64,
      databaseCaBundle: TEST_CA_BUNDLE,
      startupSteps: [FIRST_STEP],
      metricsEndpoint: true,
    }))),
  };
  return cached;
}

function taskDefinition(v: Variant): Record<string, any> {
  const defs = Object.values(v.json.Resources).filter((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any[];
  expect(defs).toHaveLength(1);
  return defs[0].Properties;
}

function container(v: Variant, name: string): Record<string, any> {
  const def = taskDefinition(v).ContainerDefinitions.find((c: any) => c.Name === name);
  expect(def).toBeDefined();
  return def;
}

function environment(def: Record<string, any>): Record<string, unknown> {
  return Object.fromEntries((def.Environment ?? []).map((e: any) => [e.Name, e.Value]));
}

describe('the backend container (SQLite on EFS)', () => {
  test('image, essential, ports, health check, stop timeout and logging', () => {
    const v = variants().efs;
    const def = container(v, 'convex-backend');
    expect(def.Image).toBe(`ghcr.io/get-convex/convex-backend:${DEFAULT_CONVEX_IMAGE_TAG}`);
    expect(DEFAULT_CONVEX_IMAGE_TAG).toMatch(/^[0-9a-f]{40}$/);
    expect(def.Essential).toBe(true);
    expect(def.PortMappings).toEqual([
      { Name: 'api', ContainerPort: 3210, Protocol: 'tcp', AppProtocol: 'http' },
      { Name: 'site', ContainerPort: 3211, Protocol: 'tcp', AppProtocol: 'http' },
    ]);
    expect(def.HealthCheck).toEqual({
      Command: ['CMD-SHELL', 'curl -f http://localhost:3210/version || exit 1'],
      Interval: 10,
      Timeout: 5,
      Retries: 3,
      StartPeriod: 60,
    });
    expect(def.StopTimeout).toBe(120);
    expect(def.LogConfiguration.LogDriver).toBe('awslogs');
    expect(def.LogConfiguration.Options['awslogs-stream-prefix']).toBe('backend');
    expect(def.LogConfiguration.Options['awslogs-group']).toEqual(v.stack.resolve(v.backend.logGroup.logGroupName));
  });

  test('environment: the storage map, INSTANCE_NAME, origins and presence flags set to true; no keys', () => {
    const v = variants().efs;
    const env = environment(container(v, 'convex-backend'));
    const storageEnv = v.stack.resolve((v.stack.node.findChild('Storage') as ConvexStorage).backendEnvironment);
    expect(env).toEqual({
      ...storageEnv,
      INSTANCE_NAME: 'acme-prod',
      CONVEX_CLOUD_ORIGIN: CLOUD,
      CONVEX_SITE_ORIGIN: SITE,
      DISABLE_BEACON: 'true',
      REDACT_LOGS_TO_CLIENT: 'true',
      DO_NOT_REQUIRE_SSL: 'true',
      DISABLE_METRICS_ENDPOINT: 'true',
    });
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['AWS_REGION', ...STORAGE_KINDS.map((k) => k.envVar)]));
    for (const forbidden of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_S3_DISABLE_SSE', 'POSTGRES_URL', 'MYSQL_URL', 'INSTANCE_SECRET']) {
      expect(env).not.toHaveProperty(forbidden);
    }
  });

  test('the entrypoint wrapper runs the image\'s entrypoint (SIGTERM becomes SIGINT); no command, no start-up step', () => {
    const def = container(variants().efs, 'convex-backend');
    expect(def.EntryPoint).toEqual(entrypointCommand());
    expect(def.EntryPoint.slice(-2)).toEqual(['convex-entrypoint', '/convex/run_backend.sh']);
    expect(def).not.toHaveProperty('Command');
  });

  test('INSTANCE_SECRET comes from the generated secret, and no database URL is set', () => {
    const v = variants().efs;
    expect(container(v, 'convex-backend').Secrets).toEqual([{ Name: 'INSTANCE_SECRET', ValueFrom: v.stack.resolve(v.backend.instanceSecret.secretArn) }]);
  });

  test('the EFS volume is mounted at /convex/data with TLS and IAM through the access point', () => {
    const v = variants().efs;
    const volume = v.backend.dataVolume!;
    expect(container(v, 'convex-backend').MountPoints).toEqual([{ ContainerPath: '/convex/data', SourceVolume: 'convex-data', ReadOnly: false }]);
    expect(taskDefinition(v).Volumes).toEqual([{
      Name: 'convex-data',
      EFSVolumeConfiguration: {
        FilesystemId: v.stack.resolve(volume.fileSystem.fileSystemId),
        TransitEncryption: 'ENABLED',
        AuthorizationConfig: { AccessPointId: v.stack.resolve(volume.accessPoint.accessPointId), IAM: 'ENABLED' },
      },
    }]);
  });

  test('the file system is encrypted, backed up, retained, and refuses plain-text and root access', () => {
    const { template } = variants().efs;
    template.hasResource('AWS::EFS::FileSystem', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { Encrypted: true, BackupPolicy: { Status: 'ENABLED' } },
    });
    template.hasResourceProperties('AWS::EFS::AccessPoint', {
      RootDirectory: { Path: '/convex-data', CreationInfo: { OwnerUid: '1000', OwnerGid: '1000', Permissions: '750' } },
      PosixUser: { Uid: '1000', Gid: '1000' },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 2049, ToPort: 2049, IpProtocol: 'tcp' });
  });

  test('the file system policy allows mount and write to the task role only, via a mount target and an access point', () => {
    const v = variants().efs;
    const volume = v.backend.dataVolume!;
    const fileSystem = v.json.Resources[v.stack.getLogicalId(volume.fileSystem.node.defaultChild as CfnElement)];
    expect(fileSystem.Properties.FileSystemPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'DenyWithoutTls', Effect: 'Deny', Principal: { AWS: '*' }, Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        { Sid: 'DenyRootAccess', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'elasticfilesystem:ClientRootAccess' },
        {
          Effect: 'Allow',
          Principal: { AWS: v.stack.resolve(v.backend.taskRole.roleArn) },
          Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          Condition: {
            Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
            ArnLike: { 'elasticfilesystem:AccessPointArn': expect.anything() },
          },
        },
      ],
    });
    // No statement allows anyone but the task role (CDK's own default allows {"AWS":"*"} to write).
    for (const statement of fileSystem.Properties.FileSystemPolicy.Statement.filter((st: any) => st.Effect === 'Allow')) {
      expect(JSON.stringify(statement.Principal)).not.toContain('"*"');
    }
    // Access points of this account and region, so of this file system only; not another account's.
    const pattern = evaluate(fileSystem.Properties.FileSystemPolicy.Statement[2].Condition.ArnLike['elasticfilesystem:AccessPointArn']);
    expect(pattern).toBe('arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/*');
    expect(arnLike(pattern, 'arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0')).toBe(true);
    expect(arnLike(pattern, 'arn:aws:elasticfilesystem:eu-west-1:210987654321:access-point/fsap-0123456789abcdef0')).toBe(false);
  });

  test('the task role\'s grant and the file system policy agree: same actions, mount target, and the task\'s access point', () => {
    const v = variants().efs;
    const volume = v.backend.dataVolume!;
    const roleId = (v.stack.resolve(v.backend.taskRole.roleArn) as any)['Fn::GetAtt'][0];
    const grants = Object.values(v.json.Resources).filter((r: any) => r.Type === 'AWS::IAM::ManagedPolicy'
      && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }])) as any[];
    const efsStatements = grants.flatMap((g) => g.Properties.PolicyDocument.Statement).filter((st: any) => JSON.stringify(st.Action).includes('elasticfilesystem'));
    expect(efsStatements).toEqual([{
      Effect: 'Allow',
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: v.stack.resolve(volume.fileSystem.fileSystemArn),
      Condition: {
        Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' },
        StringEquals: { 'elasticfilesystem:AccessPointArn': v.stack.resolve(volume.accessPoint.accessPointArn) },
      },
    }]);
    const resourceAllow = v.json.Resources[v.stack.getLogicalId(volume.fileSystem.node.defaultChild as CfnElement)].Properties.FileSystemPolicy.Statement[2];
    expect(resourceAllow.Action).toEqual(efsStatements[0].Action);
    expect(resourceAllow.Condition.Bool).toEqual(efsStatements[0].Condition.Bool);
    // The access point the task mounts is the one both policies admit.
    expect(taskDefinition(v).Volumes[0].EFSVolumeConfiguration.AuthorizationConfig).toEqual({
      AccessPointId: v.stack.resolve(volume.accessPoint.accessPointId), IAM: 'ENABLED',
    });
  });

  test('the template has no circular reference (the file system policy names the role, never the access point)', () => {
    const { json } = variants().efs;
    const references = (value: unknown): string[] => {
      if (Array.isArray(value)) return value.flatMap(references);
      if (value === null || typeof value !== 'object') return [];
      const v = value as Record<string, any>;
      if (typeof v.Ref === 'string') return [v.Ref];
      if (Array.isArray(v['Fn::GetAtt'])) return [v['Fn::GetAtt'][0]];
      return Object.values(v).flatMap(references);
    };
    const edges = new Map(Object.entries(json.Resources).map(([id, r]: [string, any]) => [
      id, [...references(r.Properties), ...([] as string[]).concat(r.DependsOn ?? [])].filter((t) => t in json.Resources),
    ]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycle = (id: string): boolean => {
      if (state.get(id) === 'done') return false;
      if (state.get(id) === 'visiting') return true;
      state.set(id, 'visiting');
      const found = (edges.get(id) ?? []).some(cycle);
      state.set(id, 'done');
      return found;
    };
    expect([...edges.keys()].filter(cycle)).toEqual([]);
  });

  test('the task: Fargate 1 vCPU / 2 GiB on x86_64 Linux, awsvpc, its own task and execution roles', () => {
    const v = variants().efs;
    const td = taskDefinition(v);
    expect([DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB]).toEqual([1024, 2048]);
    expect(td).toMatchObject({
      Cpu: String(DEFAULT_BACKEND_CPU),
      Memory: String(DEFAULT_BACKEND_MEMORY_MIB),
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    expect(td.TaskRoleArn).toEqual(v.stack.resolve(v.backend.taskRole.roleArn));
    expect(td.ExecutionRoleArn).toEqual(v.stack.resolve(v.backend.executionRole.roleArn));
  });

  test('both roles trust only ECS tasks of this account; the task role also only ECS ARNs of this account and region', () => {
    const v = variants().efs;
    const trust = (role: { roleArn: string }) => v.json.Resources[(v.stack.resolve(role.roleArn) as any)['Fn::GetAtt'][0]].Properties.AssumeRolePolicyDocument.Statement;
    const sourceAccount = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
    expect(trust(v.backend.taskRole)).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Condition: {
        ...sourceAccount,
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']] } },
      },
    }]);
    expect(trust(v.backend.executionRole)).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Condition: sourceAccount,
    }]);
  });

  test('the task role holds the storage access policy and EFS mount/write; the task roles have no inline policy', () => {
    const v = variants().efs;
    const roleId = (v.stack.resolve(v.backend.taskRole.roleArn) as any)['Fn::GetAtt'][0];
    const role = v.json.Resources[roleId];
    const storagePolicy = (v.stack.node.findChild('Storage') as ConvexStorage).grantBackendAccess(v.backend.taskRole);
    expect(role.Properties.ManagedPolicyArns).toContainEqual(v.stack.resolve(storagePolicy.managedPolicyArn));
    v.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          Resource: v.stack.resolve(v.backend.dataVolume!.fileSystem.fileSystemArn),
        }],
      },
    });
    v.template.resourceCountIs('AWS::IAM::Policy', 0);
    for (const r of [v.backend.taskRole, v.backend.executionRole]) {
      expect(v.json.Resources[(v.stack.resolve(r.roleArn) as any)['Fn::GetAtt'][0]].Properties.Policies).toBeUndefined();
    }
  });

  test('the log group has a retention and is retained; the instance secret is generated as 64 lowercase hex characters', () => {
    const { template } = variants().efs;
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: { RetentionInDays: 365 } });
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, ExcludeUppercase: true, IncludeSpace: false, ExcludeCharacters: Match.anyValue() } },
    });
    const [secret] = Object.values(template.findResources('AWS::SecretsManager::Secret', { Properties: { GenerateSecretString: Match.anyValue() } })) as any[];
    // Of the printable ASCII Secrets Manager draws from, exactly 0-9 and a-f survive the exclusions.
    const excluded = new Set<string>(secret.Properties.GenerateSecretString.ExcludeCharacters);
    const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
    expect(printable.filter((c) => !excluded.has(c) && !/[A-Z]/.test(c)).join('')).toBe('0123456789abcdef');
  });
});

describe('the dashboard container', () => {
  test('same version, port 6791, pointed at the cloud origin, started once the backend is healthy, not essential', () => {
    const v = variants().efs;
    const def = container(v, 'convex-dashboard');
    expect(def.Image).toBe(`ghcr.io/get-convex/convex-dashboard:${DEFAULT_CONVEX_IMAGE_TAG}`);
    expect(def.Environment).toEqual([{ Name: 'NEXT_PUBLIC_DEPLOYMENT_URL', Value: CLOUD }]);
    expect(def.PortMappings).toEqual([{ Name: 'dashboard', ContainerPort: 6791, Protocol: 'tcp', AppProtocol: 'http' }]);
    expect(def.DependsOn).toEqual([{ ContainerName: 'convex-backend', Condition: 'HEALTHY' }]);
    expect(def.Essential).toBe(false);
    expect(def.LogConfiguration.Options['awslogs-stream-prefix']).toBe('dashboard');
    expect(def.Secrets).toBeUndefined();
  });
});

describe('with a database and KMS storage', () => {
  test('the CA bundle reaches the wrapper in its variable; its step runs first, then the steps given, then those added later', () => {
    const v = variants().database;
    const def = container(v, 'convex-backend');
    expect(def.EntryPoint).toEqual(entrypointCommand([databaseCaFileStep(), FIRST_STEP, LATE_STEP]));
    const env = environment(def);
    expect(env[DATABASE_CA_BUNDLE_VARIABLE]).toBe(TEST_CA_BUNDLE);
    // The files are exported by the wrapper, once written.
    expect(env).not.toHaveProperty('PG_CA_FILE');
    expect(env).not.toHaveProperty('MYSQL_CA_FILE');
    // ECS refuses task definitions over 64 KiB.
    expect(JSON.stringify(taskDefinition(v)).length).toBeLessThan(64 * 1024);
  });

  test('metricsEndpoint: true opens /metrics (DISABLE_METRICS_ENDPOINT=false)', () => {
    expect(environment(container(variants().database, 'convex-backend')).DISABLE_METRICS_ENDPOINT).toBe('false');
  });

  test('POSTGRES_URL comes from the given secret; no volume, no dashboard', () => {
    const v = variants().database;
    const def = container(v, 'convex-backend');
    expect(def.Secrets).toEqual([
      { Name: 'INSTANCE_SECRET', ValueFrom: v.stack.resolve(v.backend.instanceSecret.secretArn) },
      { Name: 'POSTGRES_URL', ValueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbCdEf' },
    ]);
    expect(def.MountPoints).toBeUndefined();
    expect(taskDefinition(v).Volumes).toBeUndefined();
    expect(v.backend.dataVolume).toBeUndefined();
    v.template.resourceCountIs('AWS::EFS::FileSystem', 0);
    expect(taskDefinition(v).ContainerDefinitions).toHaveLength(1);
  });

  test('flags set to false are absent (any value, false included, would switch them on); AWS_S3_DISABLE_SSE=true is there', () => {
    const env = environment(container(variants().database, 'convex-backend'));
    expect(env).not.toHaveProperty('DISABLE_BEACON');
    expect(env).not.toHaveProperty('REDACT_LOGS_TO_CLIENT');
    expect(env).not.toHaveProperty('DO_NOT_REQUIRE_SSL');
    expect(env.AWS_S3_DISABLE_SSE).toBe('true');
    expect(env.INSTANCE_NAME).toBe('convex-self-hosted');
  });

  test('the secret and the log group use the storage key, which CloudWatch Logs may use only for this stack\'s Convex log groups', () => {
    const v = variants().database;
    const key = v.stack.resolve((v.stack.node.findChild('Storage') as ConvexStorage).encryptionKey!.keyArn);
    v.template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: key });
    v.template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: key });
    const keyPolicy = (Object.values(v.json.Resources).find((r: any) => r.Type === 'AWS::KMS::Key') as any).Properties.KeyPolicy;
    const statement = keyPolicy.Statement.find((st: any) => st.Sid === 'AllowCloudWatchLogsForConvexLogGroupsOfTest');
    expect(statement).toMatchObject({
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Resource: '*',
    });
    expect(Object.keys(statement.Condition)).toEqual(['ArnLike']);
    expect(Object.keys(statement.Condition.ArnLike)).toEqual(['kms:EncryptionContext:aws:logs:arn']);

    // Evaluated for a deployment: the condition admits the group this construct creates, and
    // neither another group of the account nor one of another stack.
    const condition = evaluate(statement.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']);
    expect(condition).toBe('arn:aws:logs:eu-west-1:123456789012:log-group:/convex/Test/*');
    const group = Object.values(v.json.Resources).find((r: any) => r.Type === 'AWS::Logs::LogGroup') as any;
    const name = evaluate(group.Properties.LogGroupName);
    expect(name).toBe('/convex/Test/Backend-Logs-51af3dc0');
    expect(name).toMatch(/^[.\-_/#A-Za-z0-9]{1,512}$/);
    const admits = (arn: string) => arnLike(condition, arn);
    expect(admits(`arn:aws:logs:eu-west-1:123456789012:log-group:${name}`)).toBe(true);
    expect(admits('arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/other')).toBe(false);
    expect(admits(`arn:aws:logs:eu-west-1:123456789012:log-group:/convex/Other/Backend-Logs-51af3dc0`)).toBe(false);
    expect(admits(`arn:aws:logs:eu-west-1:999999999999:log-group:${name}`)).toBe(false);
  });

  test('size and architecture props reach the task', () => {
    expect(taskDefinition(variants().database)).toMatchObject({ Cpu: '2048', Memory: '8192', RuntimePlatform: { CpuArchitecture: 'ARM64' } });
  });
});

test('every container has a hard memory limit: the task\'s memory, shared with the dashboard when it runs beside the backend', () => {
  const containersOf = (v: Variant) => (Object.values(v.json.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any).Properties.ContainerDefinitions;
  const [backend, dashboard] = containersOf(variants().efs);
  expect([backend.Name, backend.Memory, dashboard.Name, dashboard.Memory]).toEqual(['convex-backend', 2048 - 256, 'convex-dashboard', 256]);
  const td = (v: Variant) => (Object.values(v.json.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any).Properties;
  const [alone] = containersOf(variants().database);
  expect(alone.Memory).toBe(Number(td(variants().database).Memory));
});
