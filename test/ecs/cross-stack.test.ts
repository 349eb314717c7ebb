/**
 * Storage in one stack, the backend in another: the common layout of a storage stack deployed
 * once and a compute stack deployed often. The references must run one way only (compute reads
 * the storage), or aws-cdk-lib refuses to synthesize the app with a DependencyCycle.
 */
import { App, RemovalPolicy, Stack, aws_kms as kms } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexBackend, ConvexStorage, StorageEncryption } from '../../lib';
import { nagFindings, unitTestApp } from '../helpers/cdk-app';

interface Layout {
  readonly app: App;
  readonly storageStack: Stack;
  readonly computeStack: Stack;
  readonly keyStack?: Stack;
  readonly dependencies: Record<string, string[]>;
}

/** Builds and synthesizes the stacks; the stack dependencies are read from the cloud assembly. */
function twoStacks(encryption: StorageEncryption, options: { keyInItsOwnStack?: boolean } = {}): Layout {
  const app = unitTestApp();
  const keyStack = options.keyInItsOwnStack ? new Stack(app, 'Keys') : undefined;
  const key = keyStack && new kms.Key(keyStack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
  const storageStack = new Stack(app, 'Storage');
  const storage = new ConvexStorage(storageStack, 'Storage', { encryption, encryptionKey: key });
  const computeStack = new Stack(app, 'Compute');
  // A VPC with encrypted flow logs, an EFS volume, the generated secret, the log group, the dashboard.
  new ConvexBackend(computeStack, 'Convex', { storage, dashboard: true, cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com' });
  const assembly = app.synth();
  const dependencies = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.dependencies.map((d) => d.id).filter((id) => !id.endsWith('.assets')).sort()]));
  return { app, storageStack, computeStack, keyStack, dependencies };
}

/** Every cross-stack import (`Fn::GetStackOutput` or `Fn::ImportValue`) in a template. */
function imports(stack: Stack): string[] {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return [...json.matchAll(/"Fn::(GetStackOutput|ImportValue)":\{"StackName":"([^"]+)"/g)].map((m) => m[2])
    .concat([...json.matchAll(/"Fn::ImportValue":"([^"]+)"/g)].map((m) => m[1]));
}

describe.each([
  ['SSE-S3', StorageEncryption.S3_MANAGED],
  ['KMS', StorageEncryption.KMS],
])('%s storage in one stack, the backend in another', (_name, encryption) => {
  const layout = twoStacks(encryption);

  test('synthesizes with the compute stack depending on the storage stack, never the reverse', () => {
    expect(layout.dependencies).toEqual({ Storage: [], Compute: ['Storage'] });
    expect(imports(layout.storageStack)).toEqual([]);
    expect(new Set(imports(layout.computeStack))).toEqual(new Set(['Storage']));
  });

  test('the compute stack passes every cdk-nag pack', () => {
    expect(nagFindings(layout.computeStack)).toEqual([]);
  });
});

describe('KMS storage in one stack, the backend in another', () => {
  const { storageStack, computeStack } = twoStacks(StorageEncryption.KMS);
  const compute = Template.fromStack(computeStack);
  // The storage stack publishes the key's ARN; the compute stack reads it (a weak reference, per cdk.json).
  const storageTemplate = Template.fromStack(storageStack);
  const [keyLogicalId] = Object.keys(storageTemplate.findResources('AWS::KMS::Key'));
  const [outputName] = Object.entries(storageTemplate.toJSON().Outputs as Record<string, { Value: unknown }>)
    .find(([, output]) => JSON.stringify(output.Value) === JSON.stringify({ 'Fn::GetAtt': [keyLogicalId, 'Arn'] }))!;
  const keyArnOutput = { 'Fn::GetStackOutput': { StackName: 'Storage', Region: { Ref: 'AWS::Region' }, OutputName: outputName } };

  test('the generated secret, the volume and both log groups are encrypted with the storage key', () => {
    compute.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArnOutput });
    compute.hasResourceProperties('AWS::EFS::FileSystem', { KmsKeyId: keyArnOutput });
    expect(Object.values(compute.findResources('AWS::Logs::LogGroup')).map((r) => r.Properties.KmsKeyId)).toEqual([keyArnOutput, keyArnOutput]);
  });

  test('the execution role decrypts the secret through its own policy, only via Secrets Manager', () => {
    const statements = Object.values(compute.findResources('AWS::IAM::ManagedPolicy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('ExecutionRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 'kms:Decrypt',
      Resource: keyArnOutput,
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } },
    }));
  });

  test('the key policy names no principal of the compute stack; CloudWatch Logs may use it for its log groups only', () => {
    const [key] = Object.values(storageTemplate.findResources('AWS::KMS::Key'));
    const statements = key.Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    // Only the account (IAM policies decide) and CloudWatch Logs are allowed.
    // (The Deny of kms:CreateGrant to everyone but AWS services is checked in test/storage.)
    expect(statements.filter((s) => s.Effect === 'Allow').map((s) => s.Principal)).toEqual([
      { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
      { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
    ]);
    const logs = statements.find((s) => s.Sid === 'AllowCloudWatchLogsForConvexLogGroupsOfCompute');
    expect(JSON.stringify(logs?.Condition)).toContain('log-group:/convex/Compute/*');
  });

  test('in one stack the key policy still grants the execution role through Secrets Manager, as aws-cdk-lib does', () => {
    const app = unitTestApp();
    const stack = new Stack(app, 'Together');
    const storage = new ConvexStorage(stack, 'Storage', { encryption: StorageEncryption.KMS });
    new ConvexBackend(stack, 'Convex', { storage, cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com' });
    const [key] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'));
    expect(JSON.stringify(key.Properties.KeyPolicy)).toMatch(/ConvexBackendExecutionRole/);
  });
});

test('a key from a third stack: keys, then storage, then compute', () => {
  const layout = twoStacks(StorageEncryption.KMS, { keyInItsOwnStack: true });
  expect(layout.dependencies).toEqual({ Keys: [], Storage: ['Keys'], Compute: ['Keys', 'Storage'] });
  expect(imports(layout.keyStack!)).toEqual([]);
  expect(nagFindings(layout.computeStack)).toEqual([]);
});
