/**
 * The public API of cdk-convex-storage (API.md is generated from it: `npm run docs`).
 *
 * Start from the constructs: `ConvexStorage` (the buckets and the backend's access),
 * `ConvexBackendTaskDefinition` (the backend on ECS Fargate on that storage),
 * `ConvexBackendService` (the backend running behind an HTTPS load balancer) and
 * `ConvexStorageStack` (all of it as the deployable stack). The rest are their props, enums and
 * parts, and the backend's facts (variable names, storage kinds, images, ports) for your own
 * wiring. Validation helpers, policy builders, cdk-nag helpers and the entrypoint's shell are
 * internal: import them by path in this repository, they are not part of the package's API.
 */

// The storage: buckets, their kinds and lifecycle, replication.
export * from './storage-kinds';
export { ConvexStorage } from './storage/convex-storage';
export { StorageEncryption, StorageLayout, type ConvexStorageProps } from './storage/convex-storage-props';
export * from './storage/access-logs-bucket';
export * from './storage/replication';

// The backend's access: the managed policy's actions, a role or an IAM user, the .env block.
export { BackendAccessMode, DEFAULT_ACCESS_KEY_SERIAL, DEFAULT_TRUSTED_PRINCIPAL } from './access/access-options';
export { BACKEND_BUCKET_ACTIONS, BACKEND_DELETE_ACTIONS, BACKEND_KMS_ACTIONS, BACKEND_OBJECT_ACTIONS } from './access/backend-access-policy';
export * from './access/backend-dotenv';
export * from './access/backend-role';
export * from './access/backend-user';
export { sourceIpProblems, vpcEndpointIdProblems } from './access/network-options';
export * from './iam/managed-policy-role';

// The backend's environment and its .env format.
export * from './backend-env';
export { formatDotEnvLine, parseDotEnv, renderDotEnv, type DotEnvEntry } from './dotenv';
export * from './instance-name';

// Admin keys, issued and checked without the backend's shell.
export {
  AdminKeyError,
  INSTANCE_SECRET_BYTES,
  issueAdminKey,
  parseInstanceSecret,
  verifyAdminKey,
  type AdminKeyClaims,
  type AdminKeyDeployment,
  type IssueAdminKeyOptions,
} from './admin-key/admin-key';

// The backend on ECS Fargate.
export { ConvexBackendTaskDefinition } from './ecs/convex-backend-task-definition';
export * from './ecs/convex-backend-task-definition-props';
export { ConvexBackend, type ConvexBackendOptions, type ConvexBackendProps } from './ecs/convex-backend';
export * from './ecs/backend-vpc';
export { s3GatewayEndpointPolicyStatements } from './ecs/s3-endpoint-policy';
export * from './ecs/data-volume';
export { ConvexLogGroup, type ConvexLogGroupProps } from './ecs/log-group';
export { InstanceSecret, INSTANCE_SECRET_LENGTH, type InstanceSecretProps } from './ecs/instance-secret';
export { BACKEND_IMAGE_REPOSITORY, DASHBOARD_IMAGE_REPOSITORY, DEFAULT_CONVEX_IMAGE_TAG } from './ecs/images';
export { DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB, FARGATE_CPU_VALUES } from './ecs/fargate-sizes';
export { BACKEND_API_PORT, BACKEND_SITE_PORT, DASHBOARD_PORT } from './ecs/backend-ports';
export { type EntrypointStep } from './ecs/entrypoint/backend-entrypoint';

// The backend's database: PostgreSQL on RDS.
export { type ConvexDatabaseConnection } from './ecs/database-connection';
export { RDS_CA_CERTIFICATES_SOURCE, RDS_CA_REGIONS, rdsCaBundle } from './database/rds-ca-bundles';
export {
  DATABASE_MASTER_USERNAME,
  DEFAULT_ALLOCATED_STORAGE_GIB,
  DEFAULT_BACKUP_RETENTION_DAYS,
  DEFAULT_DATABASE_INSTANCE_TYPE,
  DEFAULT_MAX_ALLOCATED_STORAGE_FACTOR,
  MAX_ALLOCATED_STORAGE_GIB,
  MAX_BACKUP_RETENTION_DAYS,
  MIN_ALLOCATED_STORAGE_GIB,
} from './database/postgres-settings';
export * from './database/rds-log-groups';
export * from './database/convex-postgres';

// Scheduled backups: snapshot exports kept for a retention, with alarms.
export { ConvexScheduledBackups, backupFunctionAssetDir, type ConvexBackupAlarms, type ConvexScheduledBackupsProps } from './backups/convex-scheduled-backups';
export {
  BACKUP_METRICS,
  DEFAULT_BACKUP_SCHEDULE,
  DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS,
  minimumExportsRetentionDays,
  parseBackupSchedule,
  type ParsedBackupSchedule,
} from './backups/backup-settings';

// The backend as a running service: load balancer, certificate and DNS, dashboard, WAF, alarms.
export { ConvexBackendService } from './service/convex-backend-service';
export * from './service/convex-backend-service-props';
export { ConvexLoadBalancer, LOAD_BALANCER_SSL_POLICY, METRICS_PATHS, type ConvexLoadBalancerProps } from './service/convex-load-balancer';
export { ELB_LOG_DELIVERY_PRINCIPAL, LoadBalancerLogsBucket, type LoadBalancerLogsBucketProps } from './service/load-balancer-logs-bucket';
export { ConvexWebAcl, DEFAULT_RATE_LIMIT_PER_FIVE_MINUTES, WEB_ACL_MANAGED_RULE_GROUPS, type ConvexWebAclProps } from './service/convex-web-acl';
export { SERVICE_ALARMS, ServiceAlarms, type AlarmSources, type ServiceAlarmDefinition, type ServiceAlarmsProps } from './service/service-alarms';
export { AlarmTopic, type AlarmTopicProps } from './service/alarm-topic';
export { ConvexDashboardService, DASHBOARD_IMAGE_USER, type ConvexDashboardServiceProps } from './service/convex-dashboard-service';
export {
  httpsServiceUrls, plainHttpServiceUrls, serviceHosts, type ServiceHostSettings, type ServiceHosts, type ServiceUrls,
} from './service/service-endpoints';

// The deployable stack.
export * from './stack/convex-storage-stack';
