/**
 * Bad props fail at synth with one error listing every problem; risky choices warn. The
 * data-persistence rule: SQLite without a volume is an error unless ephemeralData opts in.
 */
import {
  Duration, Lazy, RemovalPolicy, Stack, aws_ec2 as ec2, aws_kms as kms, aws_logs as logs, aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import {
  CREDENTIAL_VARS, ConvexBackend, ConvexBackendStorage, ConvexBackendTaskDefinition, ConvexBackendTaskDefinitionProps, ConvexBackendVpc,
  ConvexDataVolume, ConvexDatabaseEngine, ConvexLogGroup, ConvexStorage, InstanceSecret, REQUIRED_S3_VARS, StorageEncryption,
} from '../../lib';
import { fargateMemoryOptions } from '../../lib/ecs/fargate-sizes';
import { originProblems } from '../../lib/ecs/origins';
import { unitTestStack } from '../helpers/cdk-app';

function fakeStorage(overrides: Partial<ConvexBackendStorage> = {}): ConvexBackendStorage {
  return {
    backendEnvironment: Object.fromEntries(REQUIRED_S3_VARS.map((v) => [v, v === 'AWS_REGION' ? 'eu-west-1' : `bucket-${v.toLowerCase()}`])),
    grantBackendAccess: () => undefined,
    ...overrides,
  };
}

/** Builds a backend; `extra` may use the stack (for VPCs and secrets). */
function backend(extra: (stack: Stack) => Partial<ConvexBackendTaskDefinitionProps> = () => ({ ephemeralData: true })): { stack: Stack; backend: ConvexBackendTaskDefinition } {
  const stack = unitTestStack();
  const props = { storage: fakeStorage(), ephemeralData: true, cloudOrigin: 'https://a.example.com', siteOrigin: 'https://s.example.com', ...extra(stack) };
  return { stack, backend: new ConvexBackendTaskDefinition(stack, 'Backend', props as ConvexBackendTaskDefinitionProps) };
}

function errorOf(extra: (stack: Stack) => Partial<ConvexBackendTaskDefinitionProps>): string {
  try {
    backend(extra);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

function warnings(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data)));
}

const vpc = (stack: Stack) => new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'A', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
const dbSecret = (stack: Stack) => secretsmanager.Secret.fromSecretNameV2(stack, 'Db', 'convex-db');

describe('the data-persistence rule', () => {
  test('SQLite with no volume and no opt-in is an error that names the three ways out', () => {
    const message = errorOf(() => ({ ephemeralData: undefined }));
    expect(message).toContain('Invalid ConvexBackendTaskDefinition properties at Test/Backend');
    expect(message).toContain('lost on every task restart');
    expect(message).toMatch(/Give vpc .* or database .* or set ephemeralData to true/);
  });

  test('ephemeralData: true synthesizes with a warning and no volume', () => {
    const { backend: b } = backend(() => ({ ephemeralData: true }));
    expect(b.dataVolume).toBeUndefined();
    expect(warnings(b).join('\n')).toContain('DELETES ALL DATA');
  });

  test('a vpc gives a volume and no warning; a database needs neither', () => {
    const withVpc = backend((stack) => ({ ephemeralData: undefined, vpc: vpc(stack) })).backend;
    expect(withVpc.dataVolume).toBeDefined();
    expect(warnings(withVpc)).toEqual([]);
    const withDb = backend((stack) => ({ ephemeralData: undefined, database: { engine: ConvexDatabaseEngine.MYSQL, urlSecret: dbSecret(stack) } })).backend;
    expect(withDb.dataVolume).toBeUndefined();
    expect(warnings(withDb)).toEqual([]);
  });

  test('contradictions: ephemeralData with a vpc or a database, volume subnets without a volume', () => {
    expect(errorOf((stack) => ({ ephemeralData: true, vpc: vpc(stack) }))).toContain('ephemeralData is set together with vpc');
    expect(errorOf((stack) => ({ ephemeralData: true, database: { engine: ConvexDatabaseEngine.POSTGRES, urlSecret: dbSecret(stack) } }))).toContain('ephemeralData is set but a database is given');
    expect(errorOf(() => ({ dataVolumeSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))).toContain('dataVolumeSubnets needs vpc');
  });

  test('a vpc with a database warns that no volume is created', () => {
    const b = backend((stack) => ({ ephemeralData: undefined, vpc: vpc(stack), database: { engine: ConvexDatabaseEngine.POSTGRES, urlSecret: dbSecret(stack) } })).backend;
    expect(b.dataVolume).toBeUndefined();
    expect(warnings(b).join('\n')).toContain('no volume is created');
  });
});

describe('images', () => {
  test.each([
    ['v1.2', ''],
    ['1.2.3', ''],
    ['v1.0 with spaces', ''],
    ['-leading-dash', ''],
    ['ghcr.io/get-convex/convex-backend:abc', 'without the repository'],
    ['652b828', 'A short SHA is not a tag'],
    ['652B828B5129E6CDBCAA3C20EFA8D116D09FF3BF', 'write the SHA in lowercase'],
  ])('imageTag %p is rejected with the accepted forms', (imageTag, hint) => {
    const message = errorOf(() => ({ imageTag }));
    expect(message).toContain(`imageTag '${imageTag}' is not a version upstream publishes: expected a full 40-character commit SHA in lowercase hex`);
    expect(message).toContain("a digest 'sha256:' followed by 64 lowercase hex characters, or 'latest' (with a warning)");
    expect(message).toContain(hint);
  });

  test.each([
    ['sha256:1234'],
    [`sha256:${'A'.repeat(64)}`],
  ])('imageTag %p is rejected as a digest', (imageTag) => {
    expect(errorOf(() => ({ imageTag }))).toContain(`imageTag '${imageTag}' is not a valid image digest`);
  });

  test('a commit SHA, a digest and latest are accepted', () => {
    for (const imageTag of ['f'.repeat(40), `sha256:${'a'.repeat(64)}`, 'latest']) {
      expect(() => backend(() => ({ imageTag }))).not.toThrow();
    }
  });

  test('a digest is used with @, and the dashboard then needs its own version', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const { stack, backend: b } = backend(() => ({ imageTag: digest }));
    expect(b.image).toBe(`ghcr.io/get-convex/convex-backend@${digest}`);
    expect(stack.resolve(b.backendContainer.imageName)).toBe(`ghcr.io/get-convex/convex-backend@${digest}`);
    expect(errorOf(() => ({ imageTag: digest, dashboard: true }))).toContain('set dashboardImageTag');
    expect(backend(() => ({ imageTag: digest, dashboard: true, dashboardImageTag: `sha256:${'b'.repeat(64)}` })).backend.dashboardContainer?.imageName)
      .toBe(`ghcr.io/get-convex/convex-dashboard@sha256:${'b'.repeat(64)}`);
    expect(errorOf(() => ({ dashboardImageTag: 'abc' }))).toContain('dashboardImageTag is set but dashboard is off');
    expect(errorOf(() => ({ dashboard: true, dashboardImageTag: 'a b' }))).toContain("dashboardImageTag 'a b' is not a version upstream publishes");
  });

  test('latest warns; a pinned tag does not', () => {
    expect(warnings(backend(() => ({ imageTag: 'latest', ephemeralData: true })).backend).join('\n')).toContain("The image tag 'latest' moves");
    expect(warnings(backend(() => ({ imageTag: 'f'.repeat(40), ephemeralData: true })).backend).join('\n')).not.toContain('latest');
  });
});

describe('instance name', () => {
  test('is checked with the shared validator', () => {
    const message = errorOf(() => ({ instanceName: 'Acme_Prod' }));
    expect(message).toContain("instanceName 'Acme_Prod' must start with a lowercase letter");
    expect(message).toContain("'_'");
  });

  test('defaults to the storage\'s name and must equal it when both are set', () => {
    const stack = unitTestStack();
    const b = new ConvexBackendTaskDefinition(stack, 'Backend', { storage: fakeStorage({ instanceName: 'acme-prod' }), ephemeralData: true });
    expect(b.instanceName).toBe('acme-prod');
    expect(() => new ConvexBackendTaskDefinition(stack, 'Other', { storage: fakeStorage({ instanceName: 'acme-prod' }), ephemeralData: true, instanceName: 'acme-staging' }))
      .toThrow("instanceName 'acme-staging' differs from the storage's instanceName 'acme-prod'");
  });

  test('tokens are not validated', () => {
    expect(backend(() => ({ instanceName: Lazy.string({ produce: () => 'NOT valid' }) })).backend).toBeDefined();
  });

  test('INSTANCE_NAME in the storage environment is the one value: used as the default, and must equal every other source', () => {
    const env = { ...fakeStorage().backendEnvironment, INSTANCE_NAME: 'acme-prod' };
    const stack = unitTestStack();
    const b = new ConvexBackendTaskDefinition(stack, 'Backend', { storage: fakeStorage({ backendEnvironment: env }), ephemeralData: true });
    expect(b.instanceName).toBe('acme-prod');
    const container = (Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(b.taskDefinition.node.defaultChild as any)] as any).Properties.ContainerDefinitions[0];
    expect(container.Environment.filter((e: any) => e.Name === 'INSTANCE_NAME')).toEqual([{ Name: 'INSTANCE_NAME', Value: 'acme-prod' }]);

    expect(errorOf(() => ({ storage: fakeStorage({ backendEnvironment: env }), instanceName: 'acme-staging' })))
      .toContain("the storage's backendEnvironment sets INSTANCE_NAME 'acme-prod', which differs from instanceName 'acme-staging'");
    expect(errorOf(() => ({ storage: fakeStorage({ backendEnvironment: env, instanceName: 'acme-dev' }) })))
      .toContain("the storage's backendEnvironment sets INSTANCE_NAME 'acme-prod', which differs from the storage's instanceName 'acme-dev'");
    expect(backend(() => ({ storage: fakeStorage({ backendEnvironment: env, instanceName: 'acme-prod' }), instanceName: 'acme-prod' })).backend.instanceName).toBe('acme-prod');
  });

  test('a ConvexStorage with an instance name and the task agree without repeating it', () => {
    const stack = unitTestStack();
    const storage = new ConvexStorage(stack, 'Storage', { instanceName: 'acme-prod' });
    expect(stack.resolve(storage.backendEnvironment).INSTANCE_NAME).toBe('acme-prod');
    expect(new ConvexBackendTaskDefinition(stack, 'Backend', { storage, ephemeralData: true }).instanceName).toBe('acme-prod');
    expect(() => new ConvexBackendTaskDefinition(stack, 'Other', { storage, ephemeralData: true, instanceName: 'acme-staging' })).toThrow('differs from the storage');
  });
});

describe('kept resources and a KMS key the stack deletes', () => {
  const deletedKey = (stack: Stack, id = 'Key') => new kms.Key(stack, id, { removalPolicy: RemovalPolicy.DESTROY });

  test('kept (the default) volume, secret and log group with a key the stack deletes: one error naming both settings', () => {
    const message = errorOf((stack) => ({ storage: fakeStorage({ encryptionKey: deletedKey(stack) }), ephemeralData: undefined, vpc: vpc(stack) }));
    expect(message).toContain('removalPolicy RETAIN (the default) keeps the data volume (the SQLite database), the instance secret and the log group when the stack is deleted');
    expect(message).toContain('their KMS key Test/Key has DeletionPolicy Delete');
    expect(message).toContain('set removalPolicy to RemovalPolicy.DESTROY here as well');
    expect(errorOf((stack) => ({ storage: fakeStorage({ encryptionKey: deletedKey(stack) }), removalPolicy: RemovalPolicy.SNAPSHOT })))
      .toContain("removalPolicy 'snapshot' keeps the instance secret and the log group");
  });

  test('only what the key encrypts and this construct creates counts', () => {
    // Only the log group's own key is deleted.
    expect(errorOf((stack) => ({ logEncryptionKey: deletedKey(stack) }))).toMatch(/keeps the log group when the stack is deleted, but their KMS key Test\/Key/);
    // Your own secret and log group are yours to manage.
    expect(backend((stack) => ({
      storage: fakeStorage({ encryptionKey: deletedKey(stack) }),
      instanceSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'mine'),
      logGroup: logs.LogGroup.fromLogGroupName(stack, 'L', 'mine'),
    })).backend).toBeDefined();
  });

  test('deleted with the stack too, a retained key, or an imported key: no error', () => {
    const b = backend((stack) => ({ storage: fakeStorage({ encryptionKey: deletedKey(stack) }), ephemeralData: undefined, vpc: vpc(stack), removalPolicy: RemovalPolicy.DESTROY }));
    const template = Template.fromStack(b.stack);
    for (const type of ['AWS::EFS::FileSystem', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::KMS::Key']) {
      template.hasResource(type, { DeletionPolicy: 'Delete' });
    }
    expect(backend((stack) => ({ storage: fakeStorage({ encryptionKey: new kms.Key(stack, 'Key') }), ephemeralData: undefined, vpc: vpc(stack) })).backend).toBeDefined();
    expect(backend((stack) => ({
      storage: fakeStorage({ encryptionKey: kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab') }),
      ephemeralData: undefined,
      vpc: vpc(stack),
    })).backend).toBeDefined();
  });

  test('with a ConvexStorage: its key goes with the stack only with removalPolicy DESTROY and autoDeleteObjects, and then so must the backend', () => {
    const build = (removalPolicy?: RemovalPolicy) => () => {
      const stack = unitTestStack();
      const storage = new ConvexStorage(stack, 'Storage', { encryption: StorageEncryption.KMS, removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
      return new ConvexBackendTaskDefinition(stack, 'Backend', { storage, ephemeralData: true, removalPolicy });
    };
    expect(build()).toThrow('their KMS key Test/Storage/EncryptionKey has DeletionPolicy Delete');
    expect(build(RemovalPolicy.DESTROY)()).toBeDefined();
  });

  test('the building blocks refuse it on their own too', () => {
    const stack = unitTestStack();
    const key = deletedKey(stack);
    expect(() => new InstanceSecret(stack, 'Secret', { encryptionKey: key })).toThrow('Invalid InstanceSecret properties at Test/Secret: removalPolicy RETAIN (the default) keeps the secret');
    expect(() => new ConvexDataVolume(stack, 'Volume', { vpc: vpc(stack), encryptionKey: key })).toThrow('Invalid ConvexDataVolume properties at Test/Volume: removalPolicy RETAIN (the default) keeps the file system');
    expect(() => new ConvexLogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_DAY, encryptionKey: key, removalPolicy: RemovalPolicy.RETAIN, purpose: 'p' }))
      .toThrow("Invalid ConvexLogGroup properties at Test/Logs: removalPolicy 'retain' keeps the log group");
    expect(() => new ConvexBackendVpc(stack, 'Network', { flowLogEncryptionKey: key })).toThrow('Invalid ConvexLogGroup properties at Test/Network/FlowLogs');
    expect(new InstanceSecret(stack, 'Gone', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY })).toBeDefined();
  });
});

describe('the app wrapper\'s database secret', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbC12f';
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const wrapper = (props: { databaseUrlSecretArn?: string; databaseUrlSecretKeyArn?: string; databaseEngine?: ConvexDatabaseEngine }) => {
    const stack = unitTestStack();
    const b = new ConvexBackend(stack, 'Backend', { storage: fakeStorage(), cloudOrigin: 'https://a.example.com', siteOrigin: 'https://s.example.com', ...props });
    return { stack, backend: b, json: Template.fromStack(stack).toJSON() };
  };
  const executionPolicy = (v: ReturnType<typeof wrapper>) => {
    const role = v.stack.resolve(v.backend.backend.executionRole.roleArn)['Fn::GetAtt'][0];
    const policy = Object.values(v.json.Resources).find((r: any) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.Roles[0].Ref === role) as any;
    return policy.Properties.PolicyDocument.Statement as any[];
  };

  test('a complete ARN is granted and injected exactly as given', () => {
    const v = wrapper({ databaseUrlSecretArn: ARN });
    const container = (Object.values(v.json.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any).Properties.ContainerDefinitions[0];
    expect(container.Secrets).toContainEqual({ Name: 'POSTGRES_URL', ValueFrom: ARN });
    const read = executionPolicy(v).find((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue'));
    expect(read.Resource).toContain(ARN);
    expect(JSON.stringify(read.Resource)).not.toContain('??????');
    expect(JSON.stringify(executionPolicy(v))).not.toContain('kms:');
    expect(warnings(v.backend)).toEqual([]);
  });

  test('a partial ARN or a name is refused, with where to find the complete ARN', () => {
    for (const partial of ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db', 'convex-db']) {
      expect(() => wrapper({ databaseUrlSecretArn: partial })).toThrow(`databaseUrlSecretArn: '${partial}' is not valid; expected the complete ARN`);
    }
    expect(() => wrapper({ databaseUrlSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db' })).toThrow('--query ARN');
    expect(() => wrapper({ databaseUrlSecretKeyArn: KEY })).toThrow('databaseUrlSecretKeyArn: only applies with databaseUrlSecretArn');
    expect(() => wrapper({ databaseEngine: ConvexDatabaseEngine.MYSQL })).toThrow('databaseEngine: only applies with databaseUrlSecretArn');
    expect(() => wrapper({ databaseUrlSecretArn: ARN, databaseUrlSecretKeyArn: 'alias/db' })).toThrow("databaseUrlSecretKeyArn: 'alias/db' is not valid; expected the ARN of a KMS key");
  });

  test('ARNs given as tokens are not checked', () => {
    const stack = unitTestStack();
    const arn = Lazy.string({ produce: () => ARN });
    const key = Lazy.string({ produce: () => KEY });
    expect(() => new ConvexBackend(stack, 'Backend', { storage: fakeStorage(), databaseUrlSecretArn: arn, databaseUrlSecretKeyArn: key })).not.toThrow();
  });

  test('a name part that only looks like the random suffix gives a warning', () => {
    const v = wrapper({ databaseUrlSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-secret' });
    expect(warnings(v.backend).join('\n')).toContain("databaseUrlSecretArn ends in '-secret', which looks like part of the secret's name");
  });

  test('the secret\'s customer-managed key: the execution role may decrypt with it through Secrets Manager', () => {
    const v = wrapper({ databaseUrlSecretArn: ARN, databaseUrlSecretKeyArn: KEY, databaseEngine: ConvexDatabaseEngine.MYSQL });
    expect(executionPolicy(v)).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY,
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } },
    });
  });

  test('kms:ViaService names Secrets Manager with the partition\'s URL suffix (amazonaws.com.cn in China)', () => {
    const stack = unitTestStack();
    const b = new ConvexBackend(stack, 'Backend', {
      storage: fakeStorage(),
      databaseUrlSecretArn: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:convex-db-AbC12f',
      databaseUrlSecretKeyArn: 'arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    const role = stack.resolve(b.backend.executionRole.roleArn)['Fn::GetAtt'][0];
    const json = Template.fromStack(stack).toJSON();
    const policy = Object.values(json.Resources).find((r: any) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.Roles[0].Ref === role) as any;
    const decrypt = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Action === 'kms:Decrypt');
    const [separator, parts] = decrypt.Condition.StringEquals['kms:ViaService']['Fn::Join'];
    const value = (parts as any[]).map((p) => (typeof p === 'string' ? p : { 'AWS::URLSuffix': 'amazonaws.com.cn' }[p.Ref as string])).join(separator);
    expect(value).toBe('secretsmanager.cn-north-1.amazonaws.com.cn');
  });
});

describe('origins', () => {
  test.each([
    ['api.example.com', 'is not a URL'],
    ['ftp://api.example.com', 'must start with https://'],
    ['https://user:pw@api.example.com', 'must not contain credentials'],
  ])('%p is rejected', (origin, message) => {
    expect(errorOf(() => ({ cloudOrigin: origin }))).toContain(`cloudOrigin '${origin}' ${message}`);
    expect(errorOf(() => ({ siteOrigin: origin }))).toContain(`siteOrigin '${origin}' ${message}`);
  });

  test.each([
    ['https://api.example.com/'],
    ['https://api.example.com/convex'],
    ['https://api.example.com?x=1'],
  ])('cloudOrigin %p is rejected: no path, trailing slash or query', (origin) => {
    expect(errorOf(() => ({ cloudOrigin: origin }))).toContain(`cloudOrigin '${origin}' must be an origin without a path, trailing slash, query or fragment`);
  });

  test('siteOrigin may carry a path (the one-domain layout), never a trailing slash, query or fragment', () => {
    const { stack } = backend(() => ({ cloudOrigin: 'https://api.example.com', siteOrigin: 'https://api.example.com/http' }));
    const def = Template.fromStack(stack).toJSON();
    const container = (Object.values(def.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any).Properties.ContainerDefinitions[0];
    expect(container.Environment).toContainEqual({ Name: 'CONVEX_SITE_ORIGIN', Value: 'https://api.example.com/http' });
    expect(originProblems('siteOrigin', 'https://api.example.com/a/b', { allowPath: true })).toEqual([]);
    for (const origin of ['https://api.example.com/http/', 'https://api.example.com/http?x=1', 'https://api.example.com/http#x', 'https://api.example.com/']) {
      expect(errorOf(() => ({ siteOrigin: origin }))).toContain(`siteOrigin '${origin}' must not end in a slash or carry a query or fragment (e.g. https://site.convex.example.com, or https://api.convex.example.com/http on one domain)`);
    }
  });

  test('scheme, host and port are accepted; unset origins warn', () => {
    expect(originProblems('cloudOrigin', 'https://api.example.com:8443')).toEqual([]);
    expect(originProblems('cloudOrigin', 'http://10.0.0.5:3210')).toEqual([]);
    expect(warnings(backend(() => ({ cloudOrigin: undefined, ephemeralData: true })).backend).join('\n')).toContain('cloudOrigin/siteOrigin not set');
  });

  test('plain http:// to a host that is not loopback warns, naming the origin; https and loopback do not', () => {
    const warned = warnings(backend(() => ({ cloudOrigin: 'http://10.0.0.5:3210', siteOrigin: 'http://convex.internal/http' })).backend);
    expect(warned).toEqual(expect.arrayContaining([
      expect.stringContaining("cloudOrigin 'http://10.0.0.5:3210' is plain http:// to a host that is not loopback: browsers on HTTPS pages cannot use it"),
      expect.stringContaining("siteOrigin 'http://convex.internal/http' is plain http://"),
    ]));
    expect(warned.join('\n')).toContain('admin keys, auth tokens and data would cross the network in clear text');
    for (const local of [{ cloudOrigin: 'http://127.0.0.1:3210', siteOrigin: 'http://localhost:3211' }, { cloudOrigin: 'http://[::1]:3210', siteOrigin: 'https://s.example.com' }]) {
      expect(warnings(backend(() => local).backend).join('\n')).not.toContain('plain http://');
    }
    expect(warnings(backend().backend).join('\n')).not.toContain('plain http://');
  });
});

describe('task size and timings', () => {
  test('Fargate CPU/memory combinations', () => {
    expect(errorOf(() => ({ cpu: 1000 }))).toContain('cpu 1000 is not a Fargate size');
    expect(errorOf(() => ({ cpu: 1024, memoryLimitMiB: 1024 }))).toContain('memoryLimitMiB 1024 does not fit cpu 1024 on Fargate: use 2048 to 8192 in steps of 1024');
    expect(fargateMemoryOptions(256)).toEqual([512, 1024, 2048]);
    expect(fargateMemoryOptions(16384)).toContain(122880);
    expect(backend(() => ({ cpu: 256, memoryLimitMiB: 512 })).backend).toBeDefined();
  });

  test('stop timeout within 2..120 s and health check start period within 0..300 s', () => {
    expect(errorOf(() => ({ stopTimeout: Duration.seconds(180) }))).toContain('stopTimeout is 180 seconds; Fargate accepts 2 to 120');
    expect(errorOf(() => ({ stopTimeout: Duration.seconds(1) }))).toContain('stopTimeout is 1 seconds');
    expect(errorOf(() => ({ healthCheckStartPeriod: Duration.minutes(6) }))).toContain('healthCheckStartPeriod is 360 seconds');
  });
});

describe('storage environment', () => {
  test('access keys in the storage map are never passed on: the task role is used', () => {
    const stack = unitTestStack();
    expect(CREDENTIAL_VARS).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
    const env = { ...fakeStorage().backendEnvironment, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
    const b = new ConvexBackendTaskDefinition(stack, 'Backend', { storage: fakeStorage({ backendEnvironment: env }), ephemeralData: true });
    const template = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(b.taskDefinition).toBeDefined();
    for (const leaked of ['AKIAEXAMPLE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', '"token"']) {
      expect(template).not.toContain(leaked);
    }
  });

  test('a map that would not switch on S3 storage is rejected', () => {
    const withoutRegion = Object.fromEntries(Object.entries(fakeStorage().backendEnvironment).filter(([name]) => name !== 'AWS_REGION'));
    const message = errorOf(() => ({ storage: fakeStorage({ backendEnvironment: withoutRegion }) }));
    expect(message).toContain("the storage's backendEnvironment has no AWS_REGION");
  });

  test('the storage grant is made to the task role', () => {
    const grantBackendAccess = jest.fn();
    const stack = unitTestStack();
    const b = new ConvexBackendTaskDefinition(stack, 'Backend', { storage: fakeStorage({ grantBackendAccess }), ephemeralData: true });
    expect(grantBackendAccess).toHaveBeenCalledWith(b.taskRole);
  });

  test('every problem is reported at once', () => {
    const message = errorOf(() => ({ imageTag: 'a b', instanceName: '9x', cpu: 3, cloudOrigin: 'nope', ephemeralData: undefined }));
    expect(message.split('\n').filter((l) => l.startsWith('  - ')).length).toBeGreaterThanOrEqual(5);
  });
});
