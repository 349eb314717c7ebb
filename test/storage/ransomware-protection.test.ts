/**
 * What keeps a stolen credential from destroying or re-encrypting the data: object lock on the
 * buckets that cannot be re-created, SSE-C blocked everywhere, no upload naming another
 * encryption in KMS mode, and a storage key that accepts grants for AWS resources only.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexStorage, ConvexStorageProps, StorageEncryption, StorageLayout } from '../../lib/storage/convex-storage';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { unitTestStack } from '../helpers/cdk-app';

function synth(props: ConvexStorageProps = {}): { stack: Stack; json: Record<string, any> } {
  const stack = unitTestStack();
  new ConvexStorage(stack, 'Storage', props);
  return { stack, json: Template.fromStack(stack).toJSON() };
}

function resources(json: Record<string, any>, type: string): Array<[string, any]> {
  return Object.entries(json.Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

/** The data bucket of each kind, found by its log prefix. */
function bucketOfKind(json: Record<string, any>, suffix: string): any {
  return resources(json, 'AWS::S3::Bucket').map(([, r]) => r).find((r) => r.Properties.LoggingConfiguration?.LogFilePrefix === `${suffix}/`);
}

function errorOf(props: ConvexStorageProps): string {
  try {
    synth(props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the props to be rejected');
}

describe('object lock', () => {
  test('is off by default: turning it on later would replace the buckets (ObjectLockEnabled is create-only)', () => {
    for (const [, bucket] of resources(synth().json, 'AWS::S3::Bucket')) {
      expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
      expect(bucket.Properties.ObjectLockConfiguration).toBeUndefined();
    }
  });

  test('objectLock puts GOVERNANCE retention of the noncurrent-version window on files and exports, and nothing on the rest', () => {
    const { json } = synth({ objectLock: true, noncurrentVersionRetentionDays: 40 });
    for (const spec of STORAGE_KINDS) {
      const bucket = bucketOfKind(json, spec.bucketSuffix);
      if (['files', 'exports'].includes(spec.kind)) {
        expect(bucket.Properties.ObjectLockEnabled).toBe(true);
        expect(bucket.Properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 40 } } });
      } else {
        // The modules bucket takes the Node executor's presigned PUT, which carries no checksum.
        expect({ kind: spec.kind, lock: bucket.Properties.ObjectLockEnabled }).toEqual({ kind: spec.kind, lock: undefined });
      }
    }
    const logs = resources(json, 'AWS::S3::Bucket').map(([, r]) => r).find((r) => !r.Properties.LoggingConfiguration);
    expect(logs.Properties.ObjectLockEnabled).toBeUndefined();
  });

  test('objectLockRetentionDays sets the retention; the lock outlasts no lifecycle rule that would need to delete early', () => {
    const { json } = synth({ objectLock: true, objectLockRetentionDays: 14 });
    const exports = bucketOfKind(json, 'exports');
    expect(exports.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 14 });
    // Exports expire (a delete marker, which the lock allows) after 45 days, after the retention.
    const expiry = exports.Properties.LifecycleConfiguration.Rules.find((r: any) => r.ExpirationInDays !== undefined);
    expect(expiry.ExpirationInDays).toBeGreaterThan(14);
  });

  test('is rejected with the single layout, with removalPolicy DESTROY, and its retention without it', () => {
    expect(errorOf({ objectLock: true, layout: StorageLayout.SINGLE })).toContain('objectLock applies to the separate layout');
    expect(errorOf({ objectLock: true, removalPolicy: RemovalPolicy.DESTROY })).toContain('objectLock cannot be used with removalPolicy RemovalPolicy.DESTROY');
    expect(errorOf({ objectLockRetentionDays: 10 })).toContain('objectLockRetentionDays applies only with objectLock');
    expect(errorOf({ objectLock: true, objectLockRetentionDays: 0 })).toContain('objectLockRetentionDays must be a whole number of days, 1 or more (got 0)');
  });
});

describe.each([StorageEncryption.S3_MANAGED, StorageEncryption.KMS])('with encryption %s', (encryption) => {
  const { json } = synth({ encryption });

  test('every bucket, the access-log bucket included, blocks SSE-C writes', () => {
    const buckets = resources(json, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(6);
    for (const [, bucket] of buckets) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].BlockedEncryptionTypes).toEqual({ EncryptionType: ['SSE-C'] });
    }
  });
});

describe('KMS mode bucket policy', () => {
  const { json } = synth({ encryption: StorageEncryption.KMS });
  const [keyId] = resources(json, 'AWS::KMS::Key')[0];

  test('denies uploads naming another encryption or another key, only when the header is sent', () => {
    const policies = resources(json, 'AWS::S3::BucketPolicy').filter(([, p]) => JSON.stringify(p).includes('DenyUploadsWithAnotherEncryption'));
    expect(policies).toHaveLength(5);
    for (const [, policy] of policies) {
      const statements: any[] = policy.Properties.PolicyDocument.Statement;
      expect(statements.find((s) => s.Sid === 'DenyUploadsWithAnotherEncryption')).toMatchObject({
        Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject',
        Condition: { Null: { 's3:x-amz-server-side-encryption': 'false' }, StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      });
      expect(statements.find((s) => s.Sid === 'DenyUploadsWithAnotherKmsKey')).toMatchObject({
        Effect: 'Deny', Action: 's3:PutObject',
        Condition: {
          Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
          StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [keyId, 'Arn'] } },
        },
      });
    }
  });

  test('SSE-S3 buckets get no such statement (their uploads may name AES256)', () => {
    expect(JSON.stringify(synth().json)).not.toContain('DenyUploadsWithAnother');
  });
});

describe('the storage key', () => {
  const { json } = synth({ encryption: StorageEncryption.KMS });
  const [keyId, key] = resources(json, 'AWS::KMS::Key')[0];

  test('denies kms:CreateGrant to every principal unless the grant is for an AWS resource or an AWS service asks', () => {
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: 'DenyGrantsExceptForAwsResources',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    });
  });

  test('has a 30-day deletion window and an alias naming its stack and purpose', () => {
    expect(key.Properties.PendingWindowInDays).toBe(30);
    const aliases = resources(json, 'AWS::KMS::Alias');
    expect(aliases).toHaveLength(1);
    expect(aliases[0][1].Properties).toEqual({ AliasName: expect.stringMatching(/^alias\/Test-Storage-EncryptionKey-[0-9A-F]{8}$/), TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });
});
