/**
 * The deployable app with `database=postgres`: the shared variants of test/helpers/variants.ts
 * (their cdk-nag, validation and Control Tower checks run in test/app and test/security) and the
 * database's context keys.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexBackend, ConvexStorage } from '../../lib';
import { CONTEXT_KEYS, readAppConfig } from '../../lib/app/app-config';
import { DATABASE_CONTEXT_KEYS } from '../../lib/app/database-context';
import { testApp, unitTestApp } from '../helpers/cdk-app';
import { synthesizedVariant } from '../helpers/variants';
import { ConvexWithPostgresStack } from '../../examples/postgres-on-your-cluster';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbC12f';

function resources(json: Record<string, any>, type: string): Array<[string, any]> {
  return Object.entries(json.Resources).filter(([, r]: [string, any]) => r.Type === type) as Array<[string, any]>;
}

function problemsOf(context: Record<string, unknown>): string[] {
  try {
    readAppConfig(testApp(context));
  } catch (e) {
    return (e as Error).message.split('\n').filter((line) => line.startsWith('  - ')).map((line) => line.slice(4));
  }
  return [];
}

test('ecs=true database=postgres: the database in new isolated subnets, the task built for it, no EFS volume, outputs for the service', () => {
  const { templateJson: json } = synthesizedVariant('ecs-postgres');
  const [[instanceId, instance]] = resources(json, 'AWS::RDS::DBInstance');
  expect(instance.Properties).toMatchObject({ Engine: 'postgres', EngineVersion: '17', DBName: 'convex_self_hosted', MultiAZ: false, PubliclyAccessible: false, Port: '5433' });
  expect(instance.DeletionPolicy).toBe('Snapshot');
  expect(resources(json, 'AWS::EFS::FileSystem')).toEqual([]);

  // The subnet group holds the VPC's isolated Database subnets: no route out of the VPC.
  const [[, subnetGroup]] = resources(json, 'AWS::RDS::DBSubnetGroup');
  const subnetIds: string[] = subnetGroup.Properties.SubnetIds.map((s: any) => s.Ref);
  expect(subnetIds).toHaveLength(2);
  for (const id of subnetIds) {
    expect(id).toMatch(/^BackendNetworkVpcDatabaseSubnet[12]Subnet/);
    const routes = resources(json, 'AWS::EC2::Route').filter(([, r]) => resources(json, 'AWS::EC2::SubnetRouteTableAssociation')
      .some(([, a]) => a.Properties.SubnetId.Ref === id && a.Properties.RouteTableId.Ref === r.Properties.RouteTableId.Ref));
    expect(routes).toEqual([]);
  }

  // The one way in: from the backend security group, on the database port.
  const ingress = resources(json, 'AWS::EC2::SecurityGroupIngress').filter(([id]) => id.startsWith('BackendDatabase'));
  expect(ingress.map(([, r]) => [r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0], r.Properties.FromPort, r.Properties.ToPort]))
    .toEqual([[expect.stringMatching(/^BackendBackendSecurityGroup/), 5433, 5433]]);

  const [[, taskDefinition]] = resources(json, 'AWS::ECS::TaskDefinition');
  const backend = taskDefinition.Properties.ContainerDefinitions.find((c: any) => c.Name === 'convex-backend');
  expect(backend.Secrets.map((s: any) => s.Name).sort()).toEqual(['INSTANCE_SECRET', 'POSTGRES_URL_PASSWORD', 'POSTGRES_URL_USERNAME']);
  expect(backend.Environment.find((e: any) => e.Name === 'POSTGRES_URL_HOST').Value).toEqual({ 'Fn::GetAtt': [instanceId, 'Endpoint.Address'] });
  expect(backend.MountPoints ?? []).toEqual([]);
  // Env-agnostic app: the region's CA bundle is looked up at deployment.
  expect(backend.Environment.find((e: any) => e.Name === 'CONVEX_ENTRYPOINT_DATABASE_CA_BUNDLE').Value['Fn::FindInMap'][0]).toBe('ConvexRdsCaBundles');

  expect(Object.keys(json.Outputs)).toEqual(expect.arrayContaining([
    'BackendSecurityGroupId', 'BackendDatabaseInstanceIdentifier', 'BackendDatabaseHost', 'BackendDatabaseName', 'BackendDatabaseSecretArn', 'BackendVpcId', 'BackendPrivateSubnetIds',
  ]));
  expect(Object.keys(json.Outputs)).not.toContain('BackendDataFileSystemId');
  expect(json.Outputs.BackendSecurityGroupId.Value['Fn::GetAtt'][0]).toMatch(/^BackendBackendSecurityGroup/);
});

test('adding the database leaves the address ranges of the VPC\'s existing subnets as they were', () => {
  const cidrs = (name: 'ecs' | 'ecs-postgres') => Object.fromEntries(resources(synthesizedVariant(name).templateJson, 'AWS::EC2::Subnet')
    .map(([id, s]) => [id, s.Properties.CidrBlock]));
  const before = cidrs('ecs');
  const after = cidrs('ecs-postgres');
  expect(Object.keys(before).length).toBe(4);
  expect(after).toMatchObject(before);
  expect(Object.keys(after).filter((id) => !(id in before)).map((id) => after[id])).toEqual(['10.0.12.0/24', '10.0.13.0/24']);
});

test('stage prod: Multi-AZ, and the storage key encrypts the instance, its secret and its log groups', () => {
  const { templateJson: json } = synthesizedVariant('ecs-postgres-prod');
  const [[keyId]] = resources(json, 'AWS::KMS::Key');
  const [[, instance]] = resources(json, 'AWS::RDS::DBInstance');
  expect(instance.Properties).toMatchObject({ MultiAZ: true, DBName: 'acme_prod', KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  const secret = resources(json, 'AWS::SecretsManager::Secret').find(([id]) => id.startsWith('BackendDatabase'))![1];
  expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  const databaseLogs = resources(json, 'AWS::Logs::LogGroup').filter(([id]) => id.startsWith('BackendDatabaseLogs'));
  expect(databaseLogs).toHaveLength(2);
  for (const [, group] of databaseLogs) expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
});

test('context: the database keys are documented and read with their defaults', () => {
  for (const key of DATABASE_CONTEXT_KEYS) expect(CONTEXT_KEYS).toContainEqual(key);
  const postgres = (context: Record<string, unknown>) => readAppConfig(testApp({ ecs: 'true', database: 'postgres', ...context })).backend?.postgres;
  expect(postgres({})).toEqual({ multiAz: false, instanceType: undefined, backupRetention: undefined, allocatedStorageGiB: undefined });
  expect(postgres({ stage: 'prod' })?.multiAz).toBe(true);
  expect(postgres({ stage: 'prod', databaseMultiAz: 'false' })?.multiAz).toBe(false);
  expect(postgres({ databaseMultiAz: true })?.multiAz).toBe(true);
  const set = postgres({ databaseInstanceType: 'db.m7g.large', databaseBackupRetentionDays: '35', databaseAllocatedStorage: 100 })!;
  expect(set.instanceType?.toString()).toBe('m7g.large');
  expect(set.backupRetention?.toDays()).toBe(35);
  expect(set.allocatedStorageGiB).toBe(100);
  expect(readAppConfig(testApp({ ecs: 'true' })).backend?.postgres).toBeUndefined();
  // service=true runs the task definition, so the database applies there too.
  expect(readAppConfig(testApp({ service: 'true', database: 'postgres', stage: 'prod' })).backend?.postgres?.multiAz).toBe(true);
  // The app's removalPolicy reaches the backend, which makes the database's a snapshot or a delete.
  expect(readAppConfig(testApp({ ecs: 'true', database: 'postgres', removalPolicy: 'destroy' })).backend?.removalPolicy).toBe(RemovalPolicy.DESTROY);
});

test('context: bad database settings are all reported at once, each naming the key and the fix', () => {
  expect(problemsOf({
    ecs: 'true', database: 'mysql', databaseInstanceType: 'huge', databaseMultiAz: 'yes', databaseBackupRetentionDays: '36', databaseAllocatedStorage: '10',
  })).toEqual(expect.arrayContaining([
    "database: 'mysql' is not valid; accepted values are 'postgres'.",
    "databaseInstanceType: 'huge' is not valid; expected an RDS instance class such as 't4g.small' or 'db.m7g.large'.",
    "databaseMultiAz: 'yes' is not valid; accepted values are 'true', 'false'.",
    expect.stringMatching(/^databaseBackupRetentionDays: '36' is not valid; expected whole days from 1 to 35/),
    expect.stringMatching(/^databaseAllocatedStorage: '10' is not valid; expected whole GiB from 20/),
  ]));
  expect(problemsOf({ ecs: 'true', database: 'postgres', databaseBackupRetentionDays: '0' })).toEqual([expect.stringMatching(/^databaseBackupRetentionDays: '0' is not valid.*0 would turn off backups and point-in-time recovery/)]);
});

test('context: database needs ecs=true, and excludes a database of your own and ephemeral data; its settings need it', () => {
  expect(problemsOf({ database: 'postgres' })).toEqual(['database: only applies with ecs=true or service=true (the database is the backend task\'s); add -c ecs=true or -c service=true, or drop database.']);
  expect(problemsOf({ ecs: 'true', database: 'postgres', databaseUrlSecretArn: ARN })).toEqual(['database: databaseUrlSecretArn already gives the backend a database of your own; set one of database and databaseUrlSecretArn, not both.']);
  expect(problemsOf({ ecs: 'true', database: 'postgres', ephemeralData: 'true' })).toEqual(['ephemeralData: the data lives in the database that database=postgres creates; drop ephemeralData.']);
  expect(problemsOf({ ecs: 'true', databaseMultiAz: 'true', databaseAllocatedStorage: '50' })).toEqual([
    'databaseMultiAz: only applies with database=postgres; add -c database=postgres or drop databaseMultiAz.',
    'databaseAllocatedStorage: only applies with database=postgres; add -c database=postgres or drop databaseAllocatedStorage.',
  ]);
});

test('ConvexBackend: postgres names the database after the task\'s INSTANCE_NAME, and excludes a URL secret of your own', () => {
  const stack = new Stack(unitTestApp(), 'Test');
  const storage = new ConvexStorage(stack, 'Storage', { instanceName: 'acme-prod' });
  const backend = new ConvexBackend(stack, 'Backend', { storage, postgres: { multiAz: true } });
  expect(backend.database?.databaseName).toBe('acme_prod');
  expect(backend.backend.instanceName).toBe('acme-prod');
  expect(backend.backend.dataVolume).toBeUndefined();
  expect(backend.network).toBeDefined();
  const other = new Stack(unitTestApp(), 'Other');
  expect(() => new ConvexBackend(other, 'Backend', { storage: new ConvexStorage(other, 'Storage'), postgres: {}, databaseUrlSecretArn: ARN, ephemeralData: true }))
    .toThrow(/postgres: databaseUrlSecretArn already gives the backend a database of your own[\s\S]*ephemeralData: the data lives in the database that postgres creates/);
});

test('the README example synthesizes: a Multi-AZ database in the isolated subnets, open to the service\'s tasks only', () => {
  const stack = new ConvexWithPostgresStack(unitTestApp(), 'ConvexWithPostgres', { env: { account: '123456789012', region: 'eu-west-1' } });
  const json = Template.fromStack(stack).toJSON();
  const [[, instance]] = resources(json, 'AWS::RDS::DBInstance');
  expect(instance.Properties).toMatchObject({ MultiAZ: true, DBName: 'acme_prod' });
  expect(resources(json, 'AWS::RDS::DBSubnetGroup')[0][1].Properties.SubnetIds).toEqual(['subnet-0cccccccccccccccc', 'subnet-0dddddddddddddddd']);
  const [[tasksId]] = resources(json, 'AWS::EC2::SecurityGroup').filter(([id]) => id.startsWith('Tasks'));
  expect(resources(json, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties.SourceSecurityGroupId)).toEqual([{ 'Fn::GetAtt': [tasksId, 'GroupId'] }]);
  const [[, service]] = resources(json, 'AWS::ECS::Service');
  expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups).toEqual([{ 'Fn::GetAtt': [tasksId, 'GroupId'] }]);
  const [[, taskDefinition]] = resources(json, 'AWS::ECS::TaskDefinition');
  const ca = taskDefinition.Properties.ContainerDefinitions[0].Environment.find((e: any) => e.Name === 'CONVEX_ENTRYPOINT_DATABASE_CA_BUNDLE');
  expect(ca.Value).toContain('-----BEGIN CERTIFICATE-----');
});
