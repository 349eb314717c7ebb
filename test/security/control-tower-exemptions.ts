/**
 * THE reviewed list of AWS Control Tower proactive controls (cfn-guard rules) that the app's
 * templates fail on purpose. test/security/control-tower.test.ts fails on any failing control
 * not listed here, and on any entry here that no longer matches a failure (so the list never
 * grows stale). Add an entry only with a reason a reviewer would accept; fix the template first.
 *
 * `resource` matches the failing resource's logical ID (stable: an upgrade never renames one);
 * `variants` limits the entry to those variants of test/helpers/variants.ts (default: any).
 */
import { VARIANT_NAMES, VariantName } from '../helpers/variants';

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
const SSE_S3_VARIANTS: readonly VariantName[] = ['default', 'single', 'user', 'ecs', 'ecs-database-url', 'ecs-postgres', 'service-trial'];
/** The managed database's instance (context database=postgres). */
const DATABASE_INSTANCE = /^BackendDatabaseInstance[0-9A-F]{8}$/;
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
    rule: 'ct-s3-pr-9', resource: /^Storage(Files|Exports)Bucket[0-9A-F]{8}$/, variants: VARIANT_NAMES.filter((n) => n !== 'ecs-full'),
    reason: 'Object lock is off unless objectLock=true (the ecs-full variant has it): CloudFormation cannot add it to an existing bucket (ObjectLockEnabled is create-only in the resource specification), so a default of on would replace the files and exports buckets of every deployment made before it with new, empty ones.',
  },
  {
    rule: 'ct-s3-pr-9', resource: /^Storage(SnapshotImports|Modules|Search|Storage)Bucket[0-9A-F]{8}$/,
    reason: 'No default retention is possible or useful here: the modules bucket takes the Node executor\'s presigned PUT, which carries neither Content-MD5 nor a checksum header and which S3 refuses under a default retention (the single layout\'s one bucket holds modules too); imports are copies of archives their uploader has, search indexes are rebuilt from the documents. Versioning with a 30-day noncurrent window covers overwrites and deletes.',
  },
  {
    rule: 'ct-s3-pr-9', resource: ACCESS_LOG_BUCKET,
    reason: 'S3 server access log delivery does not support a destination bucket with a default object lock retention; the log bucket is versioned, private, and written only by the logging service.',
  },
  {
    rule: 'ct-cloudwatch-pr-3', resource: /^Backend(LogsLogGroup|NetworkFlowLogsLogGroup|DatabaseLogs(postgresql|upgrade)|FirewallLogs)[0-9A-F]{8}$/, variants: ['ecs', 'ecs-database-url', 'ecs-postgres', 'service-trial'],
    reason: 'With encryption=s3 the app has no customer-managed key, and CloudWatch Logs encrypts every log group at rest with its own key; encryption=kms encrypts the container, flow and database log groups with the storage key and passes this control.',
  },
  {
    rule: 'ct-rds-pr-1', resource: DATABASE_INSTANCE, variants: ['ecs-postgres', 'service'],
    reason: 'Single-AZ by choice outside stage prod: a standby doubles the instance cost of a dev or staging database, which point-in-time recovery restores after an Availability Zone outage. Stage prod (the ecs-postgres-prod variant) and -c databaseMultiAz=true get a Multi-AZ standby and pass this control.',
  },
  {
    rule: 'ct-rds-pr-7', resource: DATABASE_INSTANCE,
    reason: 'The backend cannot use IAM database authentication: it reads one static postgres://user:password@host:port URL at start and opens connections with it for as long as it runs, while an IAM token is a password that expires after 15 minutes. Access is held by the security group (the backend\'s tasks only), TLS required by the server (rds.force_ssl=1) and verified by the backend, and a generated password in Secrets Manager.',
  },
  {
    rule: 'ct-rds-pr-30', resource: DATABASE_INSTANCE, variants: ['ecs-postgres'],
    reason: 'encryption=s3 (the default) is the chosen mode: the database is encrypted at rest with the AWS managed key aws/rds, no key to manage or pay for; encryption=kms encrypts it (and its snapshots, secret and logs) with the storage key and passes this control.',
  },
  {
    rule: 'ct-sqs-pr-1', resource: /^BackupsDeadLetterQueue[0-9A-F]{8}$/,
    reason: 'This queue is itself the dead-letter queue of the backup schedule and the backup function; a dead-letter queue for it would hold messages nobody reads. Its depth raises the dead-letter alarm.',
  },
  {
    rule: 'ct-ecs-pr-3', resource: TASK_DEFINITION,
    reason: 'The upstream backend image runs as root and its binaries are executable by root only; a non-root user cannot start it.',
  },
  {
    rule: 'ct-ecs-pr-6', resource: TASK_DEFINITION,
    reason: 'The image writes to several places at every start, read from its scripts (get-convex/convex-backend, self-hosted/docker-build): run_backend.sh creates $TMPDIR and $STORAGE_DIR under /convex/data, read_credentials.sh rewrites /convex/data/credentials/instance_secret and instance_name, the Node executor runs npm for externalPackages (its cache under $HOME by default, npm-packages/node-executor/src/build_deps.ts), and the entrypoint wrapper of this package writes the database CA bundle to /convex/database-ca-bundle.pem. With SQLite /convex/data is the EFS volume, with a database URL it is the root file system. A read-only root file system needs writable volumes on each of those paths and a boot of the real image to prove it, which cannot run here (no Docker engine); until then the root file system stays writable, and the task is reachable only from the load balancer on 3210/3211.',
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
