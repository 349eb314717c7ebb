/**
 * The settings of scheduled backups and their rules: the EventBridge Scheduler expression, the
 * retention, and what the exports bucket's lifecycle must allow. No aws-cdk-lib import: the
 * construct and the app's context reader share these checks, and the backup function shares the
 * variable names.
 */
import { EXPORT_EXPIRY_DAYS, MAX_EXPIRED_SNAPSHOT_AGE_DAYS, storageKind } from '../storage-kinds';

/** Environment variables of the backup function. */
export const BACKUP_FUNCTION_ENV = {
  /** The backend's API URL (`https://...`, `CONVEX_CLOUD_ORIGIN`). */
  apiUrl: 'CONVEX_URL',
  /** The backend's `INSTANCE_NAME`. */
  instanceName: 'CONVEX_INSTANCE_NAME',
  /** ARN of the secret holding `INSTANCE_SECRET` (the value never is an environment variable). */
  instanceSecretArn: 'CONVEX_INSTANCE_SECRET_ARN',
  /** JSON field of that secret holding the value, when the secret is JSON. */
  instanceSecretField: 'CONVEX_INSTANCE_SECRET_FIELD',
  /** How many days the backend keeps each backup. */
  retentionDays: 'BACKUP_RETENTION_DAYS',
} as const;

/** CloudWatch namespace and metric the function writes (as Embedded Metric Format log lines). */
export const BACKUP_METRICS = {
  namespace: 'ConvexBackups',
  /** 1 per export that completed and whose expiration now covers the retention. */
  confirmed: 'BackupsConfirmed',
  /** Dimension: the function's name (unique per account and region). */
  dimension: 'FunctionName',
} as const;

/** The default schedule: one backup a day. */
export const DEFAULT_BACKUP_SCHEDULE = 'rate(1 day)';

/** The default retention: what the backend keeps an export for without being asked. */
export const DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS = EXPORT_EXPIRY_DAYS;

/** The shortest interval between backups: one export runs at a time, and each can take a while. */
export const MIN_BACKUP_INTERVAL_HOURS = 1;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()]+)\)$/;
const UNIT_HOURS: Record<string, number> = { minute: 1 / 60, minutes: 1 / 60, hour: 1, hours: 1, day: 24, days: 24 };

/** A valid schedule, and how often it fires when that is known. */
export interface ParsedBackupSchedule {
  readonly expression: string;
  /**
   * Hours between two runs: exact for `rate(...)`, for `cron(...)` 24 when it fires once a day
   * and 168 once a week.
   *
   * @default - not known (a cron expression of another shape)
   */
  readonly intervalHours?: number;
}

/**
 * Checks an EventBridge Scheduler expression for backups: `rate(<n> <unit>)` (the unit singular
 * exactly when n is 1) of at least an hour, or `cron(<minutes> <hours> <day-of-month> <month>
 * <day-of-week> <year>)` with one of the two day fields `?`. A one-time `at(...)` is refused.
 *
 * @returns the parsed schedule, or the problem in words.
 */
export function parseBackupSchedule(expression: string): ParsedBackupSchedule | { problem: string } {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2];
    if (value === 0) return { problem: `'${expression}': the rate must be at least 1.` };
    if ((value === 1) !== !unit.endsWith('s')) {
      return { problem: `'${expression}': EventBridge Scheduler wants the unit singular for 1 and plural otherwise (rate(1 day), rate(2 days)).` };
    }
    const intervalHours = value * UNIT_HOURS[unit];
    if (intervalHours < MIN_BACKUP_INTERVAL_HOURS) {
      return { problem: `'${expression}' is more often than once an hour: the backend runs one export at a time, and a backup with file storage can take long. Use rate(1 hour) or more.` };
    }
    return { expression, intervalHours };
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6) {
      return { problem: `'${expression}' has ${fields.length} fields; EventBridge Scheduler's cron takes 6: minutes hours day-of-month month day-of-week year, e.g. cron(0 3 * * ? *).` };
    }
    if (fields.some((f) => !/^[0-9A-Za-z*?,/#\-]+$/.test(f))) {
      return { problem: `'${expression}' has characters a cron field does not take.` };
    }
    const [minutes, hours, dayOfMonth, , dayOfWeek] = fields;
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
      return { problem: `'${expression}': exactly one of day-of-month and day-of-week must be '?', e.g. cron(0 3 * * ? *).` };
    }
    if (/[,/\-*]/.test(minutes) || /[,/\-*]/.test(hours)) {
      // More than once a day (or a list of times): the interval is not worked out here.
      return { expression };
    }
    const daily = (dayOfMonth === '*' && dayOfWeek === '?') || (dayOfMonth === '?' && dayOfWeek === '*');
    const weekly = dayOfMonth === '?' && /^[0-9A-Za-z]+$/.test(dayOfWeek);
    return daily ? { expression, intervalHours: 24 } : weekly ? { expression, intervalHours: 168 } : { expression };
  }
  if (expression.startsWith('at(')) {
    return { problem: `'${expression}' runs once; backups need a recurring rate(...) or cron(...) expression.` };
  }
  return { problem: `'${expression}' is not an EventBridge Scheduler expression: use rate(<n> <unit>), e.g. ${DEFAULT_BACKUP_SCHEDULE}, or cron(<6 fields>), e.g. cron(0 3 * * ? *).` };
}

/**
 * The shortest lifecycle expiration of the exports bucket that keeps every backup as long as the
 * backend does: the backend lists a backup until its expiration (the retention, or its own
 * 14 days when the function never extended it) and deletes its object 30 days after that.
 */
export function minimumExportsRetentionDays(backupRetentionDays: number): number {
  return Math.max(backupRetentionDays, EXPORT_EXPIRY_DAYS) + MAX_EXPIRED_SNAPSHOT_AGE_DAYS;
}

/** The backup settings the checks look at. */
export interface BackupRetentionSettings {
  /**
   * Days the backend keeps each backup.
   *
   * @default DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS
   */
  readonly backupRetentionDays?: number;
  /**
   * Days after which the exports bucket's lifecycle expires current objects; `Infinity` when
   * nothing expires them.
   *
   * @default - the storage's default exportsRetentionDays
   */
  readonly exportsRetentionDays?: number;
}

/** The exports bucket's lifecycle expiration when none is given: the storage table's default. */
export function defaultExportsRetentionDays(): number {
  const expiry = storageKind('exports').currentObjects;
  return expiry.expires ? expiry.defaultDays : Number.POSITIVE_INFINITY;
}

/**
 * Problems with the retention settings, one sentence each naming the setting and the numbers.
 * Values that are not numbers yet (tokens) are the caller's to skip.
 */
export function backupRetentionProblems(settings: BackupRetentionSettings): string[] {
  const retention = settings.backupRetentionDays ?? DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS;
  if (!Number.isInteger(retention) || retention < 1) {
    return [`backupRetentionDays must be a whole number of days, 1 or more, not ${retention}.`];
  }
  const exportsRetention = settings.exportsRetentionDays ?? defaultExportsRetentionDays();
  const needed = minimumExportsRetentionDays(retention);
  if (exportsRetention < needed) {
    const kept = Math.max(retention, EXPORT_EXPIRY_DAYS);
    const lowest = exportsRetention - MAX_EXPIRED_SNAPSHOT_AGE_DAYS;
    return [
      `exportsRetentionDays is ${exportsRetention}, but backupRetentionDays ${retention} needs at least ${needed}: the backend lists a ` +
        `backup for ${kept} days (backupRetentionDays, and never less than its own ${EXPORT_EXPIRY_DAYS}-day expiry) and keeps ` +
        `serving it until it deletes it ${MAX_EXPIRED_SNAPSHOT_AGE_DAYS} days after that (MAX_EXPIRED_SNAPSHOT_AGE_DAYS), so a lifecycle ` +
        `rule that expires exports sooner deletes backups the backend still lists. Set exportsRetentionDays to ${needed} or more` +
        (lowest >= EXPORT_EXPIRY_DAYS ? `, or lower backupRetentionDays to ${lowest}.` : '.'),
    ];
  }
  return [];
}
