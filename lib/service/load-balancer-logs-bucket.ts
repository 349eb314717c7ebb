import { Duration, RemovalPolicy, Stack, aws_iam as iam, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { secureBucketDefaults } from '../storage/bucket-defaults';
import { LIFECYCLE_DEFAULTS } from '../storage-kinds';

/**
 * The service principal Elastic Load Balancing delivers access logs with. The ELB user guide
 * recommends it in every Region (the per-Region ELB account IDs are the older form, which needs
 * the Region at synth time; this library's stacks are environment-agnostic).
 */
export const ELB_LOG_DELIVERY_PRINCIPAL = 'logdelivery.elasticloadbalancing.amazonaws.com';

/** Properties of {@link LoadBalancerLogsBucket}. */
export interface LoadBalancerLogsBucketProps {
  /**
   * Bucket that receives this bucket's own S3 server access logs (a `ConvexStorage`'s
   * `accessLogsBucket`).
   */
  readonly serverAccessLogsBucket: s3.IBucket;

  /**
   * Days the load balancer's access logs are kept.
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
}

/**
 * A bucket for an Application Load Balancer's access logs, as hardened as the data buckets
 * (versioned, TLS only, no public access, no ACLs, server access logs) except for what ELB log
 * delivery rules out: it writes only to SSE-S3 buckets. Call {@link allowLogDelivery} with the
 * prefix the load balancer writes under.
 */
export class LoadBalancerLogsBucket extends Construct {
  /** The log bucket. */
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LoadBalancerLogsBucketProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? LIFECYCLE_DEFAULTS.accessLogRetentionDays;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secureBucketDefaults(props.removalPolicy ?? RemovalPolicy.RETAIN),
      // "The only server-side encryption option that's supported is Amazon S3-managed keys
      // (SSE-S3)" (ELB user guide, access logs).
      encryption: s3.BucketEncryption.S3_MANAGED,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: 'load-balancer-logs/',
      lifecycleRules: [
        {
          id: 'expire-load-balancer-logs',
          expiration: Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(LIFECYCLE_DEFAULTS.noncurrentVersionRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays),
        },
      ],
    });
    acknowledgeComplianceRule(this.bucket, 'S3DefaultEncryptionKMS', 'Elastic Load Balancing delivers access logs only to SSE-S3 (AES256) buckets; with SSE-KMS every log file would be dropped. The bucket is encrypted with SSE-S3, versioned, and denies non-TLS access.');
    acknowledgeComplianceRule(this.bucket, 'S3BucketReplicationEnabled', 'Load balancer access logs are an audit trail kept for a fixed retention period in a versioned bucket; a second-region copy would add cost without protecting the Convex data.');
  }

  /**
   * Lets ELB write access logs under `<prefix>/AWSLogs/<this account>/` and nowhere else.
   */
  public allowLogDelivery(prefix: string): void {
    const account = Stack.of(this).account;
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowLoadBalancerLogDelivery',
      principals: [new iam.ServicePrincipal(ELB_LOG_DELIVERY_PRINCIPAL)],
      actions: ['s3:PutObject'],
      resources: [this.bucket.arnForObjects(`${prefix}/AWSLogs/${account}/*`)],
    }));
  }
}
