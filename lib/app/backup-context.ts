/**
 * The app's context keys for scheduled backups (`backupSchedule`, `backupRetentionDays`).
 */
import {
  DEFAULT_BACKUP_SCHEDULE, DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS, backupRetentionProblems, defaultExportsRetentionDays,
  parseBackupSchedule,
} from '../backups/backup-settings';
import type { ContextKeyDoc } from './app-config';
import { ContextReader } from './context';

/** The backups' context keys, with defaults; the README documents each one. */
export const BACKUP_CONTEXT_KEYS: readonly ContextKeyDoc[] = [
  { key: 'backupSchedule', default: '(none: no scheduled backups)', description: `EventBridge Scheduler expression of scheduled backups (snapshot exports with file storage), \`rate(...)\` of at least an hour (e.g. \`${DEFAULT_BACKUP_SCHEDULE}\`) or \`cron(...)\` (e.g. \`cron(0 3 * * ? *)\`, UTC). With \`service=true\`. See "Scheduled backups" in the README.` },
  { key: 'backupRetentionDays', default: String(DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS), description: 'Days the backend keeps each scheduled backup; `exportsRetentionDays` must be at least this (never less than 14) plus 30. With `backupSchedule`.' },
];

/** The scheduled backups the app adds. */
export interface AppBackupOptions {
  /** The schedule expression. */
  readonly schedule: string;
  /** Days the backend keeps each backup. */
  readonly retentionDays: number;
}

/** What the backup settings depend on elsewhere in the context. */
export interface BackupContextScope {
  /** Whether the service runs (`service=true`): backups need its URL and network. */
  readonly service: boolean;
  /** Whether the service serves HTTPS (a hosted zone or a certificate is given). */
  readonly https: boolean;
  /** The exports bucket's expiration (`exportsRetentionDays`); `Infinity` in the single layout. */
  readonly exportsRetentionDays?: number;
}

/** Reads the backup settings; undefined without `backupSchedule`. Problems go to `context`. */
export function readBackupOptions(context: ContextReader, scope: BackupContextScope): AppBackupOptions | undefined {
  const schedule = context.string('backupSchedule');
  const retentionDays = context.integer('backupRetentionDays');
  if (schedule === undefined) {
    if (retentionDays !== undefined) context.addProblem('backupRetentionDays: only applies with backupSchedule (e.g. -c backupSchedule="rate(1 day)").');
    return undefined;
  }
  if (!scope.service) {
    context.addProblem('backupSchedule: scheduled backups need the running service (-c service=true): the backup function calls its HTTPS API URL and reads its instance secret.');
  } else if (!scope.https) {
    context.addProblem('backupSchedule: the service serves plain HTTP (no hostedZoneId/hostedZoneName and no certificateArn), and the backup function sends an admin key, a credential that never expires, with every request: give the service a certificate (-c hostedZoneId=... -c hostedZoneName=..., or -c certificateArn=...) so its API URL is https://.');
  }
  const parsed = parseBackupSchedule(schedule);
  if ('problem' in parsed) context.addProblem(`backupSchedule: ${parsed.problem}`);
  for (const problem of backupRetentionProblems({ backupRetentionDays: retentionDays, exportsRetentionDays: scope.exportsRetentionDays ?? defaultExportsRetentionDays() })) {
    context.addProblem(problem);
  }
  return { schedule, retentionDays: retentionDays ?? DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS };
}
