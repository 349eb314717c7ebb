/**
 * The app's context keys for the managed database (`database=postgres` and its settings).
 */
import { Duration, aws_ec2 as ec2 } from 'aws-cdk-lib';
import type { ConvexPostgresOptions } from '../database/convex-postgres';
import {
  DEFAULT_ALLOCATED_STORAGE_GIB, DEFAULT_BACKUP_RETENTION_DAYS, DEFAULT_DATABASE_INSTANCE_TYPE, INSTANCE_CLASS_PATTERN,
  postgresSettingsProblems,
} from '../database/postgres-settings';
import type { ContextKeyDoc } from './app-config';
import { ContextReader } from './context';

/** The stage whose database gets a Multi-AZ standby unless `databaseMultiAz` says otherwise. */
export const MULTI_AZ_STAGE = 'prod';

/** The database's context keys, with defaults; the README documents each one. */
export const DATABASE_CONTEXT_KEYS: readonly ContextKeyDoc[] = [
  { key: 'database', default: '(none: SQLite on an EFS volume)', description: '`postgres` gives the backend its own RDS for PostgreSQL 17 database (TLS verified against the pinned RDS CAs, backups, deletion protection): see "A managed database: `-c database=postgres`" in the README. With `ecs=true` or `service=true`; not with `databaseUrlSecretArn`.' },
  { key: 'databaseInstanceType', default: DEFAULT_DATABASE_INSTANCE_TYPE, description: 'RDS instance class, with or without `db.` (e.g. `t4g.medium`, `m7g.large`). With `database`.' },
  { key: 'databaseMultiAz', default: `(true for stage ${MULTI_AZ_STAGE}, else false)`, description: '`true` adds a standby in a second Availability Zone with automatic failover (about twice the instance cost). With `database`.' },
  { key: 'databaseBackupRetentionDays', default: String(DEFAULT_BACKUP_RETENTION_DAYS), description: 'Days of automated backups and point-in-time recovery, 1 to 35. With `database`.' },
  { key: 'databaseAllocatedStorage', default: String(DEFAULT_ALLOCATED_STORAGE_GIB), description: 'GiB of gp3 storage at creation (at least 20); storage autoscaling grows it up to 5 times that. With `database`.' },
];

/** What the database settings depend on elsewhere in the context. */
export interface DatabaseContextScope {
  /** The deployment stage (`prod` turns Multi-AZ on by default). */
  readonly stage: string;
  /** Whether the backend is on (`ecs=true`, or `service=true`, which implies it). */
  readonly backend: boolean;
  /** Whether `databaseUrlSecretArn` is set (a database of your own). */
  readonly ownDatabase: boolean;
  /** Whether `ephemeralData` is set. */
  readonly ephemeralData: boolean;
}

/**
 * Reads the database settings; undefined unless `database=postgres`. Problems go to `context`,
 * in the words `ConvexPostgres` uses for the same settings.
 */
export function readDatabaseOptions(context: ContextReader, scope: DatabaseContextScope): ConvexPostgresOptions | undefined {
  const engine = context.oneOf('database', ['postgres'] as const);
  const instanceType = context.string('databaseInstanceType', {
    pattern: INSTANCE_CLASS_PATTERN,
    rule: `expected an RDS instance class such as '${DEFAULT_DATABASE_INSTANCE_TYPE}' or 'db.m7g.large'`,
  });
  const multiAz = context.boolean('databaseMultiAz');
  const backupRetentionDays = context.integer('databaseBackupRetentionDays', 0);
  const allocatedStorageGiB = context.integer('databaseAllocatedStorage', 0);
  for (const problem of postgresSettingsProblems({ backupRetentionDays, allocatedStorageGiB }, { backupRetentionDays: 'databaseBackupRetentionDays', allocatedStorageGiB: 'databaseAllocatedStorage' })) {
    context.addProblem(problem);
  }

  const databaseSet = context.raw('database') !== undefined;
  if (databaseSet) {
    if (!scope.backend) context.addProblem('database: only applies with ecs=true or service=true (the database is the backend task\'s); add -c ecs=true or -c service=true, or drop database.');
    if (scope.ownDatabase) context.addProblem('database: databaseUrlSecretArn already gives the backend a database of your own; set one of database and databaseUrlSecretArn, not both.');
    if (scope.ephemeralData) context.addProblem('ephemeralData: the data lives in the database that database=postgres creates; drop ephemeralData.');
  } else {
    const stray = DATABASE_CONTEXT_KEYS.map((k) => k.key).filter((key) => key !== 'database' && context.raw(key) !== undefined);
    for (const key of stray) {
      context.addProblem(`${key}: only applies with database=postgres; add -c database=postgres or drop ${key}.`);
    }
  }
  if (engine === undefined) return undefined;
  return {
    instanceType: instanceType === undefined ? undefined : new ec2.InstanceType(instanceType.replace(/^db\./, '')),
    multiAz: multiAz ?? scope.stage === MULTI_AZ_STAGE,
    backupRetention: backupRetentionDays === undefined ? undefined : Duration.days(backupRetentionDays),
    allocatedStorageGiB,
  };
}
