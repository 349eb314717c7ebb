import { Duration, RemovalPolicy, Validations, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { blockSseC, secureBucketDefaults } from './bucket-defaults';
import { LIFECYCLE_DEFAULTS } from '../storage-kinds';
import { acknowledgeComplianceRule } from '../compliance';

/** Properties of an {@link AccessLogsBucket}. */
export interface AccessLogsBucketProps {
  /**
   * How long server access logs are kept.
   *
   * @default 365
   */
  readonly retentionDays?: number;

  /**
   * What happens to the bucket when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Empty the bucket with a Lambda-backed custom resource before deleting it. Only allowed with
   * `RemovalPolicy.DESTROY`.
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;
}

/**
 * A bucket that receives S3 server access logs: as hardened as the data buckets, except where
 * S3 log delivery itself rules a setting out.
 */
export class AccessLogsBucket extends Construct {
  /** The log bucket. */
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retentionDays = props.retentionDays ?? LIFECYCLE_DEFAULTS.accessLogRetentionDays;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secureBucketDefaults(removalPolicy),
      // S3 server access log delivery only writes to SSE-S3 buckets; SSE-KMS is not supported.
      encryption: s3.BucketEncryption.S3_MANAGED,
      autoDeleteObjects: props.autoDeleteObjects ?? false,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(LIFECYCLE_DEFAULTS.noncurrentVersionRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays),
        },
      ],
    });

    blockSseC(this.bucket);

    const logLoop = 'This is the server access log bucket itself: logging it into itself would log its own log deliveries in an endless loop. Only the S3 logging service writes here, limited by the bucket policy to source buckets of this account.';
    Validations.of(this.bucket).acknowledge({ id: 'AwsSolutions-S1', reason: logLoop });
    acknowledgeComplianceRule(this.bucket, 'S3BucketLoggingEnabled', logLoop);
    acknowledgeComplianceRule(
      this.bucket,
      'S3DefaultEncryptionKMS',
      'S3 server access log delivery supports only SSE-S3 (AES256) on the destination bucket; with SSE-KMS every log record would be dropped. The bucket is encrypted with SSE-S3 and denies non-TLS access.',
    );
    acknowledgeComplianceRule(
      this.bucket,
      'S3BucketReplicationEnabled',
      'Access logs are an audit trail kept for a fixed retention period in a versioned bucket that denies non-TLS access; a second-region copy of every log record would add cost without protecting the Convex data itself.',
    );
  }
}
