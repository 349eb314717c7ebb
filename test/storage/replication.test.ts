import { App, Stack, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConvexStorage, ConvexStorageProps, StorageEncryption, StorageLayout } from '../../lib/storage/convex-storage';
import { StorageReplication } from '../../lib/storage/replication';
import { STORAGE_KINDS, StorageKind } from '../../lib/storage-kinds';
import { nagFindings, unitTestApp } from '../helpers/cdk-app';

interface Built {
  readonly app: App;
  readonly template: Template;
}

/** Storage in eu-west-1 replicating to buckets (and a key) of a DR account in eu-central-1. */
function build(props: ConvexStorageProps, replicate: (stack: Stack) => StorageReplication): Built {
  const app = unitTestApp();
  const stack = new Stack(app, 'Storage', { env: { account: '111111111111', region: 'eu-west-1' } });
  new ConvexStorage(stack, 'Storage', { ...props, replication: replicate(stack) });
  return { app, template: Template.fromStack(stack) };
}

const drBucket = (stack: Stack, kind: string) => s3.Bucket.fromBucketArn(stack, `Dr${kind}`, `arn:aws:s3:::acme-dr-${kind}`);
const drKey = (stack: Stack) => kms.Key.fromKeyArn(stack, 'DrKey', 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab');
const allKinds = (stack: Stack) => Object.fromEntries(STORAGE_KINDS.map((k) => [k.kind, drBucket(stack, k.kind)])) as Record<StorageKind, s3.IBucket>;

function replicatedBuckets(template: Template): any[] {
  return Object.values(template.findResources('AWS::S3::Bucket', { Properties: { ReplicationConfiguration: Match.anyValue() } }));
}

describe('replication of every kind (SSE-S3)', () => {
  const { app, template } = build({}, (stack) => ({ destinations: allKinds(stack) }));

  test('each data bucket replicates to its own kind\'s destination, without delete markers', () => {
    const buckets = replicatedBuckets(template);
    expect(buckets).toHaveLength(5);
    // Pairs written out by hand: each bucket (known by its log prefix) and the destination of its kind.
    const expected: Record<string, string> = {
      'exports/': 'arn:aws:s3:::acme-dr-exports',
      'snapshot-imports/': 'arn:aws:s3:::acme-dr-snapshotImports',
      'modules/': 'arn:aws:s3:::acme-dr-modules',
      'files/': 'arn:aws:s3:::acme-dr-files',
      'search/': 'arn:aws:s3:::acme-dr-search',
    };
    const actual = Object.fromEntries(buckets.map((b) => {
      const [rule] = b.Properties.ReplicationConfiguration.Rules;
      expect(rule).toMatchObject({ Status: 'Enabled', DeleteMarkerReplication: { Status: 'Disabled' } });
      expect(rule.SourceSelectionCriteria).toBeUndefined();
      return [b.Properties.LoggingConfiguration.LogFilePrefix, rule.Destination.Bucket];
    }));
    expect(actual).toEqual(expected);
  });

  test('one role, assumed only by S3, with its grants in a customer-managed policy', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 's3.amazonaws.com' } })] },
    });
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    const roleId = Object.keys(template.findResources('AWS::IAM::Role'))[0];
    for (const bucket of replicatedBuckets(template)) {
      expect(bucket.Properties.ReplicationConfiguration.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
    const policy: any = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
    const actions = new Set(policy.Properties.PolicyDocument.Statement.flatMap((s: any) => [].concat(s.Action)));
    expect([...actions]).toEqual(expect.arrayContaining(['s3:GetObjectVersionForReplication', 's3:ReplicateObject', 's3:GetReplicationConfiguration']));
    expect([...actions].filter((a) => /Delete|\*$/.test(a as string)).sort()).toEqual(['s3:ReplicateDelete']);
  });

  test('all four cdk-nag packs are clean, with no replication acknowledgment left on the buckets', () => {
    expect(nagFindings(app)).toEqual([]);
    const stack = app.node.findChild('Storage');
    for (const spec of STORAGE_KINDS) {
      const bucket = stack.node.findChild('Storage').node.findChild(`${spec.kind[0].toUpperCase()}${spec.kind.slice(1)}Bucket`);
      expect(JSON.stringify(bucket.node.metadata)).not.toContain('S3BucketReplicationEnabled');
    }
  });
});

describe('replication of KMS buckets, files only', () => {
  const { app, template } = build({ encryption: StorageEncryption.KMS }, (stack) => ({
    destinations: { files: drBucket(stack, 'files') },
    destinationEncryptionKey: drKey(stack),
  }));

  test('only the files bucket replicates, re-encrypting SSE-KMS objects with the destination key', () => {
    const [bucket, ...others] = replicatedBuckets(template);
    expect(others).toEqual([]);
    expect(bucket.Properties.ReplicationConfiguration.Rules[0]).toMatchObject({
      Destination: { Bucket: 'arn:aws:s3:::acme-dr-files', EncryptionConfiguration: { ReplicaKmsKeyID: 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab' } },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
    });
  });

  test('the role may decrypt with the source key and encrypt with the destination key, nothing more', () => {
    const policy: any = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
    const sourceKeyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    const kmsStatements = policy.Properties.PolicyDocument.Statement
      .filter((s: any) => [].concat(s.Action).some((a: string) => a.startsWith('kms:')))
      .map((s: any) => ({ actions: [].concat(s.Action).sort(), resource: s.Resource }));
    expect(kmsStatements).toEqual(expect.arrayContaining([
      { actions: ['kms:Decrypt'], resource: { 'Fn::GetAtt': [sourceKeyId, 'Arn'] } },
      { actions: expect.arrayContaining(['kms:Encrypt']), resource: 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
    ]));
    expect(kmsStatements).toHaveLength(2);
    expect(kmsStatements.find((s: any) => s.resource === 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab').actions).not.toContain('kms:Decrypt');
  });

  test('all four cdk-nag packs are clean', () => {
    expect(nagFindings(app)).toEqual([]);
  });
});

test('the single layout replicates its one bucket', () => {
  const { template } = build({ layout: StorageLayout.SINGLE }, (stack) => ({ singleBucketDestination: drBucket(stack, 'all') }));
  expect(replicatedBuckets(template).map((b) => b.Properties.ReplicationConfiguration.Rules[0].Destination.Bucket)).toEqual(['arn:aws:s3:::acme-dr-all']);
});

describe('replication validation', () => {
  const errorOf = (props: ConvexStorageProps, replicate: (stack: Stack) => StorageReplication) => {
    try {
      build(props, replicate);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the props to be rejected');
  };

  test('KMS buckets need a destination key', () => {
    expect(errorOf({ encryption: StorageEncryption.KMS }, (stack) => ({ destinations: { files: drBucket(stack, 'files') } })))
      .toContain('replication of KMS-encrypted buckets needs replication.destinationEncryptionKey');
  });

  test('each layout has its own destination setting', () => {
    expect(errorOf({ layout: StorageLayout.SINGLE }, (stack) => ({ destinations: { files: drBucket(stack, 'files') } })))
      .toContain('replication.destinations applies to the separate layout');
    expect(errorOf({}, (stack) => ({ singleBucketDestination: drBucket(stack, 'all') })))
      .toContain('replication.singleBucketDestination applies to the single layout');
  });

  test('a destination key without a destination is a mistake', () => {
    expect(errorOf({}, (stack) => ({ destinationEncryptionKey: drKey(stack) })))
      .toContain('replication.destinationEncryptionKey is set but no bucket has a replication destination');
  });
});

describe('the replicas\' key is granted by ARN, through S3 only', () => {
  test('a destination key of another account and region: no Resource \'*\', kms:ViaService of the key\'s region', () => {
    const { template } = build({ encryption: StorageEncryption.KMS }, (stack) => ({ destinations: { files: drBucket(stack, 'files') }, destinationEncryptionKey: drKey(stack) }));
    const policy: any = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
    expect(statements).toContainEqual({
      Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: 'arn:aws:kms:eu-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
    });
  });

  test('a destination key created in a stack of another region is scoped the same way', () => {
    const app = unitTestApp();
    const dr = new Stack(app, 'Dr', { env: { account: '111111111111', region: 'eu-central-1' } });
    const key = new kms.Key(dr, 'ReplicaKey');
    const bucket = new s3.Bucket(dr, 'Replica', { bucketName: 'acme-dr-files', versioned: true });
    const stack = new Stack(app, 'Storage', { env: { account: '111111111111', region: 'eu-west-1' }, crossRegionReferences: true });
    new ConvexStorage(stack, 'Storage', { encryption: StorageEncryption.KMS, replication: { destinations: { files: bucket }, destinationEncryptionKey: key } });
    const policy: any = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'))[0];
    const kmsStatements = policy.Properties.PolicyDocument.Statement.filter((st: any) => JSON.stringify(st.Action).includes('kms:Encrypt'));
    expect(kmsStatements).toHaveLength(1);
    expect(kmsStatements[0].Resource).not.toBe('*');
    expect(kmsStatements[0].Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } });
  });
});
