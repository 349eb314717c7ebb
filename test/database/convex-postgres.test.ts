/**
 * ConvexPostgres field by field (unit apps, no CloudFormation validation), its checks, and its
 * cdk-nag findings.
 */
import { Duration, RemovalPolicy, Stack, aws_ec2 as ec2, aws_kms as kms } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexPostgres, ConvexPostgresProps } from '../../lib/database/convex-postgres';
import { RDS_CA_REGIONS, rdsCaBundle } from '../../lib/database/rds-ca-bundles';
import { acknowledgmentsUnder, nagFindings, unitTestApp } from '../helpers/cdk-app';

interface Built {
  readonly stack: Stack;
  readonly database: ConvexPostgres;
  readonly backend: ec2.SecurityGroup;
  readonly json: Record<string, any>;
}

function build(props: Partial<ConvexPostgresProps> = {}, options: { region?: string; isolated?: boolean; key?: boolean } = {}): Built {
  const env = options.region === undefined ? undefined : { account: '123456789012', region: options.region };
  const stack = new Stack(unitTestApp(), 'Test', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    restrictDefaultSecurityGroup: false,
    maxAzs: 2,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ...(options.isolated === false ? [] : [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }]),
    ],
  });
  const backend = new ec2.SecurityGroup(stack, 'BackendTasks', { vpc });
  const encryptionKey = options.key ? new kms.Key(stack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN }) : undefined;
  const database = new ConvexPostgres(stack, 'Database', { vpc, backendConnections: backend, encryptionKey, ...props });
  return { stack, database, backend, json: Template.fromStack(stack).toJSON() };
}

function resources(json: Record<string, any>, type: string): Array<[string, any]> {
  return Object.entries(json.Resources).filter(([, r]: [string, any]) => r.Type === type) as Array<[string, any]>;
}

function only(json: Record<string, any>, type: string): [string, any] {
  const found = resources(json, type);
  expect(found).toHaveLength(1);
  return found[0];
}

const defaults = build({}, { region: 'eu-west-1' });
const hardened = build({ instanceName: 'acme-prod', multiAz: true, backupRetention: Duration.days(35), allocatedStorageGiB: 50, maxAllocatedStorageGiB: 500, instanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE) }, { region: 'eu-west-1', key: true });
const agnostic = build();

test('the instance, field by field: PostgreSQL 17, private, encrypted gp3 with autoscaling, backups, protected, logs, monitoring', () => {
  const [, instance] = only(defaults.json, 'AWS::RDS::DBInstance');
  expect(instance.DeletionPolicy).toBe('Snapshot');
  expect(instance.UpdateReplacePolicy).toBe('Snapshot');
  const p = instance.Properties;
  expect(p).toMatchObject({
    Engine: 'postgres',
    EngineVersion: '17',
    DBInstanceClass: 'db.t4g.small',
    DBName: 'convex_self_hosted',
    PubliclyAccessible: false,
    Port: '5433',
    StorageEncrypted: true,
    StorageType: 'gp3',
    AllocatedStorage: '20',
    MaxAllocatedStorage: 100,
    BackupRetentionPeriod: 7,
    DeleteAutomatedBackups: false,
    CopyTagsToSnapshot: true,
    DeletionProtection: true,
    MultiAZ: false,
    AutoMinorVersionUpgrade: true,
    AllowMajorVersionUpgrade: false,
    EnableIAMDatabaseAuthentication: false,
    CACertificateIdentifier: 'rds-ca-rsa2048-g1',
    EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
    MonitoringInterval: 60,
  });
  // Without a key: the AWS managed key aws/rds.
  expect(p.KmsKeyId).toBeUndefined();
  expect(p.DBInstanceIdentifier).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
  expect(p.DBInstanceIdentifier).not.toMatch(/--|-$/);

  const [parametersId, parameters] = only(defaults.json, 'AWS::RDS::DBParameterGroup');
  expect(parameters.Properties).toMatchObject({ Family: 'postgres17', Parameters: { 'rds.force_ssl': '1' } });
  expect(p.DBParameterGroupName).toEqual({ Ref: parametersId });

  // The master user and password come from the generated secret, by dynamic reference.
  const [secretId] = only(defaults.json, 'AWS::SecretsManager::Secret');
  for (const [field, value] of [['username', p.MasterUsername], ['password', p.MasterUserPassword]]) {
    expect(value).toEqual({ 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, `:SecretString:${field}::}}`]] });
  }
});

test('the settings: instance class, Multi-AZ, backup retention, storage and the key', () => {
  const { Properties: p } = only(hardened.json, 'AWS::RDS::DBInstance')[1];
  const [keyId] = only(hardened.json, 'AWS::KMS::Key');
  expect(p).toMatchObject({ DBInstanceClass: 'db.m7g.large', MultiAZ: true, BackupRetentionPeriod: 35, AllocatedStorage: '50', MaxAllocatedStorage: 500, DBName: 'acme_prod' });
  expect(p.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  const { Properties: secret } = only(hardened.json, 'AWS::SecretsManager::Secret')[1];
  expect(secret.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  for (const [, group] of resources(hardened.json, 'AWS::Logs::LogGroup')) {
    expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  }
  // CloudWatch Logs may use the key for this instance's log groups only.
  const key = only(hardened.json, 'AWS::KMS::Key')[1];
  const logs = key.Properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes('logs.'));
  expect(logs).toHaveLength(1);
  expect(JSON.stringify(logs[0].Condition)).toContain(`:log-group:/aws/rds/instance/${p.DBInstanceIdentifier}/*`);
});

test('the database is named after INSTANCE_NAME with - turned into _, the one the backend opens', () => {
  expect(defaults.database.databaseName).toBe('convex_self_hosted');
  expect(hardened.database.databaseName).toBe('acme_prod');
  expect(only(build({ instanceName: 'a-b-c-1' }).json, 'AWS::RDS::DBInstance')[1].Properties.DBName).toBe('a_b_c_1');
});

test('in the isolated subnets when the VPC has them, else the private ones; never a public one', () => {
  const subnetsOf = (built: Built) => only(built.json, 'AWS::RDS::DBSubnetGroup')[1].Properties.SubnetIds.map((s: any) => s.Ref);
  expect(subnetsOf(defaults)).toEqual(expect.arrayContaining([expect.stringMatching(/^VpcIsolatedSubnet[12]/), expect.stringMatching(/^VpcIsolatedSubnet[12]/)]));
  expect(subnetsOf(defaults)).toHaveLength(2);
  const privateOnly = build({}, { isolated: false });
  expect(subnetsOf(privateOnly).every((id: string) => /^VpcPrivateSubnet/.test(id))).toBe(true);
  expect(() => build({ vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })).toThrow('vpcSubnets selects public subnets');
});

test('the database port is open to the backend\'s tasks only: one ingress rule, from their security group, on its port', () => {
  const { json } = defaults;
  const [backendGroupId] = resources(json, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('BackendTasks'))!;
  const [databaseGroupId, databaseGroup] = resources(json, 'AWS::EC2::SecurityGroup').find(([id]) => id.startsWith('Database'))!;
  expect(databaseGroup.Properties.SecurityGroupIngress).toBeUndefined();
  const ingress = resources(json, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
  expect(ingress).toEqual([{
    IpProtocol: 'tcp',
    FromPort: 5433,
    ToPort: 5433,
    GroupId: { 'Fn::GetAtt': [databaseGroupId, 'GroupId'] },
    SourceSecurityGroupId: { 'Fn::GetAtt': [backendGroupId, 'GroupId'] },
    Description: 'PostgreSQL from the Convex backend',
  }]);
  const { Properties: instance } = only(json, 'AWS::RDS::DBInstance')[1];
  expect(instance.VPCSecurityGroups).toEqual([{ 'Fn::GetAtt': [databaseGroupId, 'GroupId'] }]);
});

test('a database no peer may reach fails synthesis, naming the fix', () => {
  const stack = new Stack(unitTestApp(), 'Test');
  new ConvexPostgres(stack, 'Database', { vpc: new ec2.Vpc(stack, 'Vpc', { restrictDefaultSecurityGroup: false }) });
  expect(() => Template.fromStack(stack)).toThrow('no peer may reach the database. Pass backendConnections');
});

test('the master secret: generated in Secrets Manager as letters and digits, kept with the snapshot', () => {
  const [, secret] = only(defaults.json, 'AWS::SecretsManager::Secret');
  expect(secret.DeletionPolicy).toBe('Retain');
  const generator = secret.Properties.GenerateSecretString;
  expect(generator).toMatchObject({ GenerateStringKey: 'password', PasswordLength: 30, SecretStringTemplate: '{"username":"convex"}' });
  const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
  const allowed = printable.filter((c) => !generator.ExcludeCharacters.includes(c)).join('');
  expect(allowed).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
  // Attached to the instance: Secrets Manager adds host, port and engine to the JSON.
  only(defaults.json, 'AWS::SecretsManager::SecretTargetAttachment');
  expect(defaults.stack.resolve(defaults.database.credentialsSecret.secretArn)).toEqual({ Ref: only(defaults.json, 'AWS::SecretsManager::SecretTargetAttachment')[0] });
});

test('the exported logs go to log groups made ahead of the instance, kept a year', () => {
  const { Properties: p, DependsOn: dependsOn } = only(defaults.json, 'AWS::RDS::DBInstance')[1];
  const groups = resources(defaults.json, 'AWS::Logs::LogGroup');
  expect(groups.map(([, g]) => g.Properties.LogGroupName).sort()).toEqual(['postgresql', 'upgrade'].map((log) => `/aws/rds/instance/${p.DBInstanceIdentifier}/${log}`));
  for (const [id, group] of groups) {
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(group.DeletionPolicy).toBe('Retain');
    expect(dependsOn).toContain(id);
  }
});

test('CA certificates: the pinned bundle of the stack\'s region; in a stack without a region, every region\'s, looked up at deployment', () => {
  expect(defaults.database.caCertificates).toBe(rdsCaBundle('eu-west-1'));
  expect(build({}, { region: 'ap-southeast-2' }).database.caCertificates).toBe(rdsCaBundle('ap-southeast-2'));
  expect(defaults.json.Mappings).toBeUndefined();

  expect(agnostic.stack.resolve(agnostic.database.caCertificates)).toEqual({ 'Fn::FindInMap': ['ConvexRdsCaBundles', { Ref: 'AWS::Region' }, 'Pem'] });
  const mapping = agnostic.json.Mappings.ConvexRdsCaBundles;
  expect(Object.keys(mapping).sort()).toEqual([...RDS_CA_REGIONS]);
  for (const region of RDS_CA_REGIONS) expect(mapping[region]).toEqual({ Pem: rdsCaBundle(region) });

  const own = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  expect(build({ caCertificates: own }, { region: 'eu-west-1' }).database.caCertificates).toBe(own);
});

test('a region without a pinned bundle is an error that says where to get one', () => {
  expect(() => build({}, { region: 'us-gov-west-1' })).toThrow(/caCertificates: this package pins no RDS CA bundle for region 'us-gov-west-1' \(it has af-south-1, .*\); download Amazon's bundle for the region \(https:\/\/truststore\.pki\.rds\.amazonaws\.com\/us-gov-west-1\/us-gov-west-1-bundle\.pem/);
  expect(() => build({ caCertificates: rdsCaBundle('us-west-2') }, { region: 'us-gov-west-1' })).not.toThrow();
});

test('bad settings are reported together, each with its fix', () => {
  let message = '';
  try {
    build({
      instanceName: 'user', backupRetention: Duration.days(36), allocatedStorageGiB: 10, maxAllocatedStorageGiB: 10,
      caCertificates: '/etc/ssl/rds.pem', instanceIdentifier: 'Bad--name-',
    });
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain('Invalid ConvexPostgres properties at Test/Database:');
  expect(message).toContain("instanceName 'user' gives the database name 'user', which PostgreSQL or RDS reserves");
  expect(message).toContain("backupRetention (days): '36' is not valid; expected whole days from 1 to 35");
  expect(message).toContain("allocatedStorageGiB: '10' is not valid; expected whole GiB from 20");
  expect(message).toContain("maxAllocatedStorageGiB: '10' is not valid; expected whole GiB above the allocated storage (10)");
  expect(message).toContain('caCertificates holds no PEM certificate');
  expect(message).toContain("instanceIdentifier 'Bad--name-' is not valid");
  expect(() => build({ backupRetention: Duration.days(0) })).toThrow("backupRetention (days): '0' is not valid");
  expect(() => build({ instanceName: 'Acme' })).toThrow("instanceName 'Acme' must start with a lowercase letter");
});

test('removalPolicy DESTROY: a throw-away database, deleted with its backups; a kept one needs a kept key', () => {
  const { json } = build({ removalPolicy: RemovalPolicy.DESTROY });
  const [, instance] = only(json, 'AWS::RDS::DBInstance');
  expect(instance.DeletionPolicy).toBe('Delete');
  expect(instance.Properties).toMatchObject({ DeletionProtection: false, DeleteAutomatedBackups: true });
  expect(only(json, 'AWS::SecretsManager::Secret')[1].DeletionPolicy).toBe('Delete');
  for (const [, group] of resources(json, 'AWS::Logs::LogGroup')) expect(group.DeletionPolicy).toBe('Delete');

  const stack = new Stack(unitTestApp(), 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { restrictDefaultSecurityGroup: false });
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
  expect(() => new ConvexPostgres(stack, 'Database', { vpc, encryptionKey })).toThrow(/removalPolicy RETAIN \(the default\) keeps the database's final snapshot, its master secret and its logs when the stack is deleted, but their KMS key Test\/Key has DeletionPolicy Delete/);
});

test.each([['defaults', defaults], ['Multi-AZ with a KMS key', hardened], ['without a region', agnostic]])('no cdk-nag finding in any pack: %s', (_, built) => {
  expect(nagFindings(built.database)).toEqual([]);
});

test('every acknowledgment has a reason, and the choices are the ones expected', () => {
  const ids = (built: Built) => acknowledgmentsUnder(built.database).map((a) => a.id.replace(/^Annotation::/, '').replace(/^(NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-/, '')).sort();
  for (const { reason } of acknowledgmentsUnder(defaults.database)) expect(reason.length).toBeGreaterThan(100);
  // Single-AZ and the AWS managed keys are acknowledged only where they apply.
  expect(new Set(ids(defaults))).toEqual(new Set([
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    'AwsSolutions-RDS3', 'AwsSolutions-RDS6', 'AwsSolutions-SMG4',
    'CloudWatchLogGroupEncrypted', 'RDSInBackupPlan', 'RDSMultiAZSupport', 'SecretsManagerRotationEnabled', 'SecretsManagerUsingKMSKey',
  ]));
  expect(new Set(ids(hardened))).toEqual(new Set([
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    'AwsSolutions-RDS6', 'AwsSolutions-SMG4', 'RDSInBackupPlan', 'SecretsManagerRotationEnabled',
  ]));
  const iamAuth = acknowledgmentsUnder(defaults.database).find((a) => a.id.endsWith('AwsSolutions-RDS6'))!;
  expect(iamAuth.reason).toContain('expires after 15 minutes');
});
