/**
 * The settings of a `ConvexPostgres` that the app's context and the construct check in the same
 * words, and their defaults. No aws-cdk-lib import beyond `Token`.
 */
import { Token } from 'aws-cdk-lib';
import { instanceDatabaseName } from '../instance-name';

/** The instance class used unless one is given: 2 vCPUs (burstable, Graviton), 2 GiB. */
export const DEFAULT_DATABASE_INSTANCE_TYPE = 't4g.small';
/** Days of automated backups (and point-in-time recovery) unless set. */
export const DEFAULT_BACKUP_RETENTION_DAYS = 7;
/** RDS keeps automated backups for at most 35 days. */
export const MAX_BACKUP_RETENTION_DAYS = 35;
/** GiB of gp3 storage at creation unless set; RDS's minimum for gp3. */
export const DEFAULT_ALLOCATED_STORAGE_GIB = 20;
/** The smallest gp3 volume RDS for PostgreSQL takes. */
export const MIN_ALLOCATED_STORAGE_GIB = 20;
/** The largest volume RDS for PostgreSQL takes (64 TiB). */
export const MAX_ALLOCATED_STORAGE_GIB = 65536;
/** Storage autoscaling grows the volume up to this many times its allocated size unless set. */
export const DEFAULT_MAX_ALLOCATED_STORAGE_FACTOR = 5;

/** The master user RDS creates; the backend connects as it (it owns the database). */
export const DATABASE_MASTER_USERNAME = 'convex';

/**
 * Names PostgreSQL reserves (its "reserved" key words, which cannot name a database without
 * quoting) and the databases RDS itself keeps: RDS refuses them as the initial database.
 */
const RESERVED_DATABASE_NAMES = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'both', 'case', 'cast', 'check', 'collate',
  'column', 'constraint', 'create', 'current_catalog', 'current_date', 'current_role', 'current_time', 'current_timestamp',
  'current_user', 'default', 'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for',
  'foreign', 'from', 'grant', 'group', 'having', 'in', 'initially', 'intersect', 'into', 'lateral', 'leading', 'limit',
  'localtime', 'localtimestamp', 'not', 'null', 'offset', 'on', 'only', 'or', 'order', 'placing', 'primary', 'references',
  'returning', 'select', 'session_user', 'some', 'symmetric', 'system_user', 'table', 'then', 'to', 'trailing', 'true',
  'union', 'unique', 'user', 'using', 'variadic', 'when', 'where', 'window', 'with',
  'postgres', 'rdsadmin', 'template0', 'template1',
]);

/** The numeric settings, as {@link postgresSettingsProblems} checks them. */
export interface PostgresSettings {
  /**
   * Days of automated backups.
   *
   * @default DEFAULT_BACKUP_RETENTION_DAYS
   */
  readonly backupRetentionDays?: number;
  /**
   * GiB of storage at creation.
   *
   * @default DEFAULT_ALLOCATED_STORAGE_GIB
   */
  readonly allocatedStorageGiB?: number;
  /**
   * GiB storage autoscaling may grow to.
   *
   * @default - DEFAULT_MAX_ALLOCATED_STORAGE_FACTOR times the allocated storage
   */
  readonly maxAllocatedStorageGiB?: number;
}

/**
 * Problems with the numeric settings, one `<setting>: <problem>` line each (tokens are not
 * checked). `names` maps a setting to the name the caller knows it by (a context key or a prop).
 */
export function postgresSettingsProblems(settings: PostgresSettings, names: Partial<Record<keyof PostgresSettings, string>> = {}): string[] {
  const name = (key: keyof PostgresSettings) => names[key] ?? key;
  const known = (value: number | undefined): value is number => value !== undefined && !Token.isUnresolved(value);
  const problems: string[] = [];
  const { backupRetentionDays: days, allocatedStorageGiB: allocated, maxAllocatedStorageGiB: max } = settings;
  if (known(days) && (!Number.isInteger(days) || days < 1 || days > MAX_BACKUP_RETENTION_DAYS)) {
    problems.push(`${name('backupRetentionDays')}: '${days}' is not valid; expected whole days from 1 to ${MAX_BACKUP_RETENTION_DAYS} (RDS keeps automated backups at most ${MAX_BACKUP_RETENTION_DAYS} days, and 0 would turn off backups and point-in-time recovery).`);
  }
  if (known(allocated) && (!Number.isInteger(allocated) || allocated < MIN_ALLOCATED_STORAGE_GIB || allocated > MAX_ALLOCATED_STORAGE_GIB)) {
    problems.push(`${name('allocatedStorageGiB')}: '${allocated}' is not valid; expected whole GiB from ${MIN_ALLOCATED_STORAGE_GIB} (the smallest gp3 volume RDS takes) to ${MAX_ALLOCATED_STORAGE_GIB}. Storage autoscaling grows it later.`);
  }
  if (known(max) && (!Number.isInteger(max) || max > MAX_ALLOCATED_STORAGE_GIB || max <= (known(allocated) ? allocated : DEFAULT_ALLOCATED_STORAGE_GIB))) {
    problems.push(`${name('maxAllocatedStorageGiB')}: '${max}' is not valid; expected whole GiB above the allocated storage (${known(allocated) ? allocated : DEFAULT_ALLOCATED_STORAGE_GIB}) and at most ${MAX_ALLOCATED_STORAGE_GIB}: storage autoscaling grows the volume up to it.`);
  }
  return problems;
}

/** Why `instanceName`'s database name cannot be RDS's initial database; undefined when it can. */
export function databaseNameProblem(instanceName: string): string | undefined {
  const databaseName = instanceDatabaseName(instanceName);
  return RESERVED_DATABASE_NAMES.has(databaseName)
    ? `gives the database name '${databaseName}', which PostgreSQL or RDS reserves: RDS would refuse to create it. Choose another instance name (before the backend first starts; never change it after).`
    : undefined;
}

/** RDS instance classes are written without the `db.` prefix in aws-cdk-lib's `ec2.InstanceType`. */
export const INSTANCE_CLASS_PATTERN = /^(?:db\.)?[a-z][a-z0-9-]*\.[a-z0-9]+$/;
