import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexStorage, ConvexStorageProps, StorageEncryption, StorageLayout } from '../../lib/storage/convex-storage';
import { STORAGE_KINDS, StorageKind } from '../../lib/storage-kinds';
import { unitTestApp, unitTestStack } from '../helpers/cdk-app';

interface Built {
  readonly stack: Stack;
  readonly storage: ConvexStorage;
  readonly template: Template;
  readonly statements: any[];
}

/** One synthesis per variant: storage granted to a role, and its one managed policy. */
function build(props: ConvexStorageProps = {}): Built {
  const stack = unitTestStack();
  const storage = new ConvexStorage(stack, 'Storage', props);
  storage.grantBackendAccess(new iam.Role(stack, 'Backend', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') }));
  const template = Template.fromStack(stack);
  const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
  expect(policies).toHaveLength(1);
  return { stack, storage, template, statements: (policies[0] as any).Properties.PolicyDocument.Statement };
}

const bucketArn = (b: Built, kind: StorageKind) => b.stack.resolve(b.storage.bucket(kind).bucketArn);
const objectsArn = (b: Built, kind: StorageKind, keys = '*') => ({ 'Fn::Join': ['', [bucketArn(b, kind), `/${keys}`]] });
const kinds = STORAGE_KINDS.map((spec) => spec.kind);

/** The statement list as sid -> { actions, resources }, single values normalized to arrays. */
function bySid(statements: any[]): Record<string, { actions: string[]; resources: unknown[]; condition?: unknown }> {
  const arr = (v: unknown) => (Array.isArray(v) ? v : [v]);
  return Object.fromEntries(statements.map((s) => {
    expect(s.Effect).toBe('Allow');
    return [s.Sid, { actions: arr(s.Action), resources: arr(s.Resource), ...(s.Condition ? { condition: s.Condition } : {}) }];
  }));
}

describe('separate layout, SSE-S3 (default)', () => {
  const b = build();

  test('exactly the backend calls: list buckets, read/write/abort objects, delete only exports', () => {
    expect(bySid(b.statements)).toEqual({
      ListBuckets: { actions: ['s3:ListBucket'], resources: kinds.map((k) => bucketArn(b, k)) },
      ReadWriteObjects: { actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: kinds.map((k) => objectsArn(b, k)) },
      DeleteExpiredExports: { actions: ['s3:DeleteObject'], resources: [objectsArn(b, 'exports')] },
    });
  });

  test('no wildcard, version-specific, bucket-level write or KMS action', () => {
    const actions = b.statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions.filter((a) => /Version/.test(a))).toEqual([]);
    expect(actions.filter((a) => /^s3:(PutBucket|DeleteBucket|PutLifecycle|PutEncryption|PutReplication)/.test(a))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('kms:'))).toEqual([]);
    expect(JSON.stringify(b.statements)).not.toContain('s3:DeleteObjectVersion');
  });

  test('the policy is attached to the role, and nothing is inline', () => {
    b.template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: [b.stack.resolve(b.storage.backendAccessPolicy.managedPolicyArn)] });
    b.template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('the object wildcards carry finding-specific AwsSolutions-IAM5 acknowledgments with a reason', () => {
    const acks = acknowledgments(b.storage.backendAccessPolicy);
    const ids = kinds.map((k) => `AwsSolutions-IAM5[Resource::<${(bucketArn(b, k) as any)['Fn::GetAtt'][0]}.Arn>/*]`);
    expect(Object.keys(acks).sort()).toEqual([...ids].sort());
    for (const reason of Object.values(acks)) {
      expect(reason).toMatch(/object key space of one named Convex storage bucket/);
    }
  });
});

describe('separate layout, SSE-KMS, instanceName and delete on all buckets', () => {
  const b = build({ encryption: StorageEncryption.KMS, instanceName: 'my-app', grantDeleteOnAllBuckets: true });

  test('object ARNs narrow to the instance prefix, delete covers every bucket, KMS through S3 only', () => {
    const keyArn = b.stack.resolve(b.storage.encryptionKey!.keyArn);
    expect(bySid(b.statements)).toEqual({
      ListBuckets: { actions: ['s3:ListBucket'], resources: kinds.map((k) => bucketArn(b, k)) },
      ReadWriteObjects: { actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: kinds.map((k) => objectsArn(b, k, 'my-app-????????-????-????-????-????????????/*')) },
      DeleteObjects: { actions: ['s3:DeleteObject'], resources: kinds.map((k) => objectsArn(b, k, 'my-app-????????-????-????-????-????????????/*')) },
      UseStorageKeyThroughS3: {
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [keyArn],
        condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } },
      },
    });
  });

  test('the acknowledgment reason names the prefix', () => {
    const acks = acknowledgments(b.storage.backendAccessPolicy);
    expect(Object.keys(acks)).toHaveLength(5);
    for (const [id, reason] of Object.entries(acks)) {
      expect(id).toMatch(/^AwsSolutions-IAM5\[Resource::<Storage\w+Bucket\w+\.Arn>\/my-app-\?{8}-\?{4}-\?{4}-\?{4}-\?{12}\/\*\]$/);
      expect(reason).toContain("'my-app-????????-????-????-????-????????????/*'");
    }
  });
});

describe('single layout', () => {
  test('SSE-S3: the same actions on the one bucket, resources deduplicated', () => {
    const b = build({ layout: StorageLayout.SINGLE });
    expect(bySid(b.statements)).toEqual({
      ListBuckets: { actions: ['s3:ListBucket'], resources: [bucketArn(b, 'files')] },
      ReadWriteObjects: { actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: [objectsArn(b, 'files')] },
      DeleteExpiredExports: { actions: ['s3:DeleteObject'], resources: [objectsArn(b, 'exports')] },
    });
    expect(objectsArn(b, 'exports')).toEqual(objectsArn(b, 'files'));
  });

  test('SSE-KMS with instanceName', () => {
    const b = build({ layout: StorageLayout.SINGLE, encryption: StorageEncryption.KMS, instanceName: 'convex-self-hosted' });
    const sids = bySid(b.statements);
    expect(Object.keys(sids)).toEqual(['ListBuckets', 'ReadWriteObjects', 'DeleteExpiredExports', 'UseStorageKeyThroughS3']);
    expect(sids.ReadWriteObjects.resources).toEqual([objectsArn(b, 'files', 'convex-self-hosted-????????-????-????-????-????????????/*')]);
    expect(sids.DeleteExpiredExports.resources).toEqual([objectsArn(b, 'files', 'convex-self-hosted-????????-????-????-????-????????????/*')]);
    expect(sids.UseStorageKeyThroughS3.resources).toEqual([b.stack.resolve(b.storage.encryptionKey!.keyArn)]);
  });
});

describe('grantBackendAccess', () => {
  test('one policy for every grantee: roles, users, groups, imported ones and grantables', () => {
    const stack = unitTestStack();
    const storage = new ConvexStorage(stack, 'Storage');
    expect(storage.node.tryFindChild('BackendAccessPolicy')).toBeUndefined();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const user = new iam.User(stack, 'User');
    const group = new iam.Group(stack, 'Group');
    const policy = storage.grantBackendAccess(role);
    expect(storage.grantBackendAccess(user)).toBe(policy);
    storage.grantBackendAccess(group);
    storage.grantBackendAccess(iam.Role.fromRoleArn(stack, 'ImportedRole', 'arn:aws:iam::123456789012:role/imported'));
    storage.grantBackendAccess(iam.User.fromUserName(stack, 'ImportedUser', 'imported-user'));
    storage.grantBackendAccess(iam.Group.fromGroupName(stack, 'ImportedGroup', 'imported-group'));
    // Anything whose grantPrincipal is a role, e.g. a task definition or a function.
    storage.grantBackendAccess({ grantPrincipal: new iam.Role(stack, 'Behind', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }) });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    const ref = stack.resolve(policy.managedPolicyArn);
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: [ref] });
    template.hasResourceProperties('AWS::IAM::User', { ManagedPolicyArns: [ref] });
    template.hasResourceProperties('AWS::IAM::Group', { ManagedPolicyArns: [ref] });
    expect(Object.values(template.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: [ref] } }))).toHaveLength(2);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', { Roles: ['imported'], Users: ['imported-user'], Groups: ['imported-group'] });
  });

  test('a principal that cannot hold a managed policy is a clear error', () => {
    const stack = unitTestStack();
    const storage = new ConvexStorage(stack, 'Storage');
    expect(() => storage.grantBackendAccess(new iam.ServicePrincipal('ecs-tasks.amazonaws.com')))
      .toThrow(/grantBackendAccess attaches the managed policy .*BackendAccessPolicy to an IAM role, user or group, but got a principal of type ServicePrincipal\. Pass the role the backend runs with/);
    expect(() => storage.grantBackendAccess(new iam.AccountPrincipal('123456789012'))).toThrow(/but got a principal of type AccountPrincipal/);
  });

  test('a policy is created only when asked for', () => {
    const stack = unitTestStack();
    new ConvexStorage(stack, 'Storage');
    Template.fromStack(stack).resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });
});

describe('instanceName validation', () => {
  test.each([
    ['My_App', /instanceName 'My_App' must start with a lowercase letter.*\n.*instanceName 'My_App' contains 'M', '_'/],
    ['a'.repeat(64), /instanceName '(a+)' is 64 characters long; at most 63/],
    ['', /instanceName '' is empty/],
  ])('rejects %j with its rule', (instanceName, message) => {
    expect(() => new ConvexStorage(new Stack(unitTestApp(), 'S'), 'Storage', { instanceName }))
      .toThrow(message);
  });
});

function acknowledgments(scope: { node: { metadata: Array<{ type: string; data: unknown }> } }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of scope.node.metadata) {
    if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
    // aws-cdk-lib records ids with an `Annotation::` prefix, which cdk-nag strips.
    for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) out[id.replace(/^annotation::/i, '')] = reason;
  }
  return out;
}
