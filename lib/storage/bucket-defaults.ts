import { Duration, RemovalPolicy, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';

/**
 * The secure defaults every bucket of this library starts from, in one place.
 *
 * Callers merge their own settings over these; each default is proved by a unit test.
 */
export function secureBucketDefaults(removalPolicy: RemovalPolicy): s3.BucketProps {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    // No ACLs: the bucket owner owns every object, whoever wrote it.
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    // Denies plain-HTTP requests and TLS older than 1.2 in the bucket policy.
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    removalPolicy,
    // The auto-delete custom resource is a Lambda with delete rights on the bucket; it is only
    // wanted for throw-away stacks, so it is never on by default.
    autoDeleteObjects: false,
  };
}

/** How a data bucket is encrypted at rest. */
export function dataBucketEncryption(key: kms.IKey | undefined): Pick<s3.BucketProps, 'encryption' | 'encryptionKey' | 'bucketKeyEnabled'> {
  if (key) {
    // S3 Bucket Keys cut the KMS requests (and their cost) of every object write and read.
    return { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true };
  }
  // Bucket Keys change nothing under SSE-S3; set anyway so that a bucket whose default is later
  // switched to SSE-KMS (in the console, say) keeps KMS costs down from the first object.
  return { encryption: s3.BucketEncryption.S3_MANAGED, bucketKeyEnabled: true };
}

/** Lifecycle settings of one data bucket, in days. */
export interface DataLifecycle {
  /** Days after which an unfinished multipart upload is aborted. */
  readonly abortIncompleteMultipartUploadDays: number;
  /** Days a noncurrent version is kept. */
  readonly noncurrentVersionRetentionDays: number;
  /**
   * Days after which current objects expire.
   *
   * @default - current objects never expire
   */
  readonly currentObjectRetentionDays?: number;
}

/** Lifecycle rules of a data bucket. */
export function dataLifecycleRules(lifecycle: DataLifecycle): s3.LifecycleRule[] {
  const rules: s3.LifecycleRule[] = [
    {
      id: 'abort-incomplete-multipart-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(lifecycle.abortIncompleteMultipartUploadDays),
    },
    {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(lifecycle.noncurrentVersionRetentionDays),
      // Once its noncurrent versions are gone a delete marker protects nothing.
      expiredObjectDeleteMarker: true,
    },
  ];
  if (lifecycle.currentObjectRetentionDays !== undefined) {
    // S3 rejects a rule that sets both an expiration and expiredObjectDeleteMarker, hence a rule of its own.
    rules.push({
      id: 'expire-current-objects',
      expiration: Duration.days(lifecycle.currentObjectRetentionDays),
    });
  }
  return rules;
}

/**
 * Blocks writes with customer-provided keys (SSE-C) on the bucket: encrypting a victim's objects
 * with a key only the attacker holds is a known ransomware pattern, and the backend never uses
 * SSE-C. Written as the CloudFormation property (`BlockedEncryptionTypes`), which every
 * aws-cdk-lib version passes through; the `blockedEncryptionTypes` prop of `s3.Bucket` exists
 * only in recent releases (aws/aws-cdk#37047).
 */
export function blockSseC(bucket: s3.Bucket): void {
  (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
    'BucketEncryption.ServerSideEncryptionConfiguration.0.BlockedEncryptionTypes.EncryptionType', ['SSE-C']);
}

/**
 * In KMS mode, denies uploads that name an encryption other than the bucket's key: an explicit
 * `AES256` (or another key) would silently store objects outside the key's control. A request
 * that names none gets the bucket default, so no header is demanded (the backend's presigned PUT
 * sends none, and with `AWS_S3_DISABLE_SSE=true` its multipart uploads send none either). The
 * conditions apply only when the header is present (`Null: false`): a missing header matches
 * `StringNotEquals`, which would otherwise deny every upload.
 */
export function denyOtherEncryption(bucket: s3.Bucket, key: kms.IKey): void {
  const objects = bucket.arnForObjects('*');
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyUploadsWithAnotherEncryption',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:PutObject'],
    resources: [objects],
    conditions: {
      'Null': { 's3:x-amz-server-side-encryption': 'false' },
      'StringNotEquals': { 's3:x-amz-server-side-encryption': 'aws:kms' },
    },
  }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyUploadsWithAnotherKmsKey',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:PutObject'],
    resources: [objects],
    conditions: {
      'Null': { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
      'StringNotEquals': { 's3:x-amz-server-side-encryption-aws-kms-key-id': key.keyArn },
    },
  }));
}
