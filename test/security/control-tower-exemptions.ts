/**
 * THE reviewed list of AWS Control Tower proactive controls (cfn-guard rules) that the app's
 * templates fail on purpose. test/security/control-tower.test.ts fails on any failing control
 * not listed here, and on any entry here that no longer matches a failure (so the list never
 * grows stale). Add an entry only with a reason a reviewer would accept; fix the template first.
 *
 * `resource` matches the failing resource's logical ID (stable: an upgrade never renames one);
 * `variants` limits the entry to those variants of test/helpers/variants.ts (default: any).
 */
import type { VariantName } from '../helpers/variants';

export interface ControlTowerExemption {
  /** The control, as its rule file is named: `ct-s3-pr-9`. */
  readonly rule: string;
  /** The logical IDs it applies to. */
  readonly resource: RegExp;
  /** The variants it applies to. @default every variant */
  readonly variants?: readonly VariantName[];
  readonly reason: string;
}

/** The data buckets of both layouts (the access-log bucket is not one). */
const DATA_BUCKETS = /^Storage(Exports|SnapshotImports|Modules|Files|Search|Storage)Bucket[0-9A-F]{8}$/;
const ACCESS_LOG_BUCKET = /^StorageAccessLogsBucket[0-9A-F]{8}$/;
const TASK_DEFINITION = /^BackendTaskDefinition[0-9A-F]{8}$/;
const SSE_S3_VARIANTS: readonly VariantName[] = ['default', 'single', 'user', 'ecs', 'ecs-database-url', 'service-trial'];
/** The bucket of the load balancer's access logs (service variants). */
const LOAD_BALANCER_LOG_BUCKET = /^BackendLoadBalancerLogsBucket[0-9A-F]{8}$/;

export const CONTROL_TOWER_EXEMPTIONS: readonly ControlTowerExemption[] = [
  {
    rule: 'ct-s3-pr-2', resource: ACCESS_LOG_BUCKET,
    reason: 'Server access logging on the access-log bucket would write its own log records into itself, an endless loop; it is the logging destination of every other bucket.',
  },
  {
    rule: 'ct-s3-pr-10', resource: ACCESS_LOG_BUCKET,
    reason: 'S3 server access log delivery writes only into buckets encrypted with SSE-S3 (AES256); a KMS default encryption would make log delivery fail.',
  },
  {
    rule: 'ct-s3-pr-10', resource: DATA_BUCKETS, variants: SSE_S3_VARIANTS,
    reason: 'encryption=s3 (the default) is the chosen mode: SSE-S3 with no key to manage or pay for; encryption=kms, one context value away, encrypts every data bucket with the storage key and passes this control.',
  },
  {
    rule: 'ct-s3-pr-4', resource: new RegExp(`${DATA_BUCKETS.source}|${ACCESS_LOG_BUCKET.source}`),
    reason: 'Nothing consumes S3 event notifications: the backend finds its objects by key, and a notification target without a consumer would only add a queue or topic to secure. Access logs and CloudTrail record the activity.',
  },
  {
    rule: 'ct-s3-pr-9', resource: new RegExp(`${DATA_BUCKETS.source}|${ACCESS_LOG_BUCKET.source}`),
    reason: 'TEMPORARY (issue 9, object lock in progress): object lock is being added to the files and exports buckets.',
  },
  {
    rule: 'ct-kms-pr-3', resource: /^StorageEncryptionKey[0-9A-F]{8}$/,
    reason: 'TEMPORARY (issue 9, in progress): the kms:CreateGrant guard (kms:GrantIsForAWSResource) is being added to the storage key policy.',
  },
  {
    rule: 'ct-cloudwatch-pr-3', resource: /^Backend(Logs|NetworkFlowLogs)LogGroup[0-9A-F]{8}$|^BackendFirewallLogs[0-9A-F]{8}$/, variants: ['ecs', 'ecs-database-url', 'service-trial'],
    reason: 'With encryption=s3 the app has no customer-managed key, and CloudWatch Logs encrypts every log group at rest with its own key; encryption=kms encrypts both log groups with the storage key and passes this control.',
  },
  {
    rule: 'ct-ecs-pr-3', resource: TASK_DEFINITION,
    reason: 'The upstream backend image runs as root and its binaries are executable by root only; a non-root user cannot start it.',
  },
  {
    rule: 'ct-ecs-pr-6', resource: TASK_DEFINITION,
    reason: 'TEMPORARY (issue 9, in progress): the writable paths of the image are being established for a read-only root file system.',
  },
  {
    rule: 'ct-ecs-pr-7', resource: TASK_DEFINITION,
    reason: 'TEMPORARY (issue 9, in progress): a hard memory limit per container is being added.',
  },
  {
    rule: 'ct-s3-pr-10', resource: LOAD_BALANCER_LOG_BUCKET,
    reason: 'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 ("the only server-side encryption option that is supported", ELB user guide); with a KMS default encryption every log file would be dropped.',
  },
  {
    rule: 'ct-s3-pr-4', resource: LOAD_BALANCER_LOG_BUCKET,
    reason: 'Nothing consumes notifications of new load balancer log files: they are read on demand (Athena, download). A notification target without a consumer would only add a queue or topic to secure.',
  },
  {
    rule: 'ct-s3-pr-9', resource: LOAD_BALANCER_LOG_BUCKET,
    reason: 'Load balancer access logs are kept for a fixed retention and then expired by the lifecycle rule; the bucket is versioned (a deleted or overwritten log file stays recoverable for 30 days), private and TLS-only, and only the ELB log delivery service may write to it. ELB does not document log delivery into buckets with a default object-lock retention, and a silent delivery failure would lose the audit trail itself.',
  },
  {
    rule: 'ct-ecs-pr-6', resource: /^BackendDashboardTaskDefinition[0-9A-F]{8}$/,
    reason: 'The dashboard image is a Next.js standalone server that may write its cache under /app/dashboard-self-hosted/.next/cache; a read-only root file system has not been verified against the image. The task runs as the image\'s non-root user with a role that holds no AWS permission, so a write to its own file system reaches nothing else.',
  },
  {
    rule: 'ct-cloudwatch-pr-1', resource: /^BackendAlarms[A-Za-z0-9]+[0-9A-F]{8}$/, variants: ['service-trial'],
    reason: 'This variant gives no alarmEmail (a trial): the alarms change state in the CloudWatch console and on EventBridge, with no SNS action. With alarmEmail every alarm notifies an encrypted topic on alarm and on recovery (the service variant passes this control).',
  },
  {
    rule: 'ct-ec2-pr-3', resource: /^BackendLoadBalancerSecurityGroup[0-9A-F]{8}$/, variants: ['service-trial'],
    reason: 'This trial variant sets publicDashboard without a domain, so the dashboard listens on port 6791 of the load balancer for any address, by explicit choice and with a synth warning. With dashboardAllowedCidrs the port is open only to those blocks; with a domain only 443 (and 80, which redirects) are open.',
  },
  {
    rule: 'ct-elasticloadbalancing-pr-1', resource: /^BackendLoadBalancer(Http|DashboardHttp)[0-9A-F]{8}$/, variants: ['service-trial'],
    reason: 'This trial variant has no domain, so there is no certificate and the load balancer serves plain HTTP on its own DNS name, with a synth warning (trials only). With domainName the listener is HTTPS with TLS 1.3 and port 80 only redirects (the service variant passes this control).',
  },
  {
    rule: 'ct-elasticloadbalancing-pr-5', resource: /^BackendLoadBalancer[0-9A-F]{8}$/, variants: ['service-trial'],
    reason: 'This throw-away variant turns deletion protection off on purpose (deletionProtection false) so that deleting the stack deletes the load balancer; it is on by default (the service variant passes this control).',
  },
];
