/**
 * The scheduled backup function (Node.js 22 on Lambda; bundled into
 * `assets/backup-function/index.js` by `npm run bundle`). Each run:
 *
 * 1. reads `INSTANCE_SECRET` from Secrets Manager and derives an admin key in memory, with the
 *    same module as `convex-storage admin-key` (the key is never stored, logged or returned);
 * 2. looks at the latest snapshot export (`_system/cli/exports:getLatest`): a completed one gets
 *    its expiration moved to `start_ts + retention` (`POST /api/export/set_expiration/{id}`), so
 *    the backend keeps it that long; a failed one fails this run (after step 3);
 * 3. requests a new export with file storage (`POST /api/export/request/zip?includeStorage=true`);
 *    400 `ExportInProgress` means one is already running, which is fine;
 * 4. waits, while the function's time allows, for that export to complete, and extends it too.
 *    An export still running at the end is confirmed by the next run.
 *
 * Every confirmed backup is counted in the `BackupsConfirmed` metric (an Embedded Metric Format
 * log line); the missed-backup alarm watches it. Shapes read from get-convex/convex-backend:
 * `crates/local_backend/src/snapshot_export.rs`, `crates/model/src/exports/types.rs`,
 * `npm-packages/system-udfs/convex/_system/cli/exports.ts`, `crates/common/src/types/snapshot_export.rs`.
 *
 * No aws-cdk-lib import: this runs in the function.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { issueAdminKey } from '../admin-key/admin-key';
import { BACKUP_FUNCTION_ENV, BACKUP_METRICS } from './backup-settings';

const NANOS_PER_DAY = BigInt(86_400) * BigInt(1_000_000_000);

/** A snapshot export as `getLatest` returns it in the `json` value format (int64 as strings). */
export interface SnapshotExport {
  readonly _id: string;
  readonly state: 'requested' | 'in_progress' | 'completed' | 'failed' | 'canceled';
  /**
   * The snapshot's timestamp (nanoseconds), once started.
   *
   * @default - not started
   */
  readonly start_ts?: string | number;
  /**
   * When the backend stops listing it (nanoseconds).
   *
   * @default - none (failed or canceled)
   */
  readonly expiration_ts?: string | number;
}

/** What one run did, returned by the function (and logged). */
export interface BackupRunResult {
  /** Exports whose expiration now covers the retention. */
  readonly confirmed: string[];
  /** Whether this run's request started an export (false: one was already running). */
  readonly requested: boolean;
  /**
   * An export still running when the run stopped waiting; the next run confirms it.
   *
   * @default - none
   */
  readonly pending?: string;
}

/** How a run is set up. */
export interface BackupRunOptions {
  /** The backend's API URL (`https://...`). */
  readonly apiUrl: string;
  /** Its `INSTANCE_NAME`. */
  readonly instanceName: string;
  /** Reads the `INSTANCE_SECRET` (64 hex characters). */
  readonly readInstanceSecret: () => Promise<string>;
  /** Days the backend keeps each backup. */
  readonly retentionDays: number;
  /** Milliseconds the run may still use. */
  readonly remainingMs: () => number;
  /**
   * Pause between two looks at a running export.
   *
   * @default 15000
   */
  readonly pollIntervalMs?: number;
  /**
   * Time kept free at the end of the run, for the last requests.
   *
   * @default 30000
   */
  readonly reserveMs?: number;
  /**
   * Timeout of each request to the backend.
   *
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Where log lines go (one JSON object each; never the key).
   *
   * @default console.log
   */
  readonly log?: (line: string) => void;
  /**
   * The function's name, the metric's dimension.
   *
   * @default - AWS_LAMBDA_FUNCTION_NAME
   */
  readonly functionName?: string;
}

/** The backend answered with an error. */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

/** Runs one backup round (see the module comment). */
export async function runBackup(options: BackupRunOptions): Promise<BackupRunResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const note = (message: string, fields: Record<string, unknown> = {}) => log(JSON.stringify({ message, ...fields }));
  const api = backendApi(options.apiUrl, issueAdminKey({ instanceName: options.instanceName, instanceSecret: await options.readInstanceSecret() }), options.requestTimeoutMs ?? 30_000, options.instanceName);
  const confirmed: string[] = [];

  const confirm = async (snapshot: SnapshotExport) => {
    if (confirmed.includes(snapshot._id)) return;
    const target = BigInt(String(snapshot.start_ts)) + BigInt(options.retentionDays) * NANOS_PER_DAY;
    if (snapshot.expiration_ts === undefined || BigInt(String(snapshot.expiration_ts)) < target) {
      await api.setExpiration(snapshot._id, target);
      note('extended the backup\'s expiration', { exportId: snapshot._id, startTs: String(snapshot.start_ts), expirationTsNs: target.toString(), retentionDays: options.retentionDays });
    } else {
      note('the backup\'s expiration already covers the retention', { exportId: snapshot._id, startTs: String(snapshot.start_ts) });
    }
    confirmed.push(snapshot._id);
  };

  const pollMs = options.pollIntervalMs ?? 15_000;
  const reserveMs = options.reserveMs ?? 30_000;
  const failures: string[] = [];
  /** Looks at the latest export until it settles (null: none yet), or returns the one still running when time runs out. */
  const settled = async (): Promise<{ done: SnapshotExport | null } | { running: SnapshotExport }> => {
    for (;;) {
      const latest = await api.latest();
      if (!latest || !(latest.state === 'requested' || latest.state === 'in_progress')) return { done: latest };
      if (options.remainingMs() < pollMs + reserveMs) {
        note('the export is still running; the next run confirms it', { exportId: latest._id, state: latest.state });
        return { running: latest };
      }
      await new Promise((done) => setTimeout(done, pollMs));
    }
  };
  /** Confirms a completed export, records a failed one. */
  const account = async (snapshot: SnapshotExport) => {
    if (snapshot.state === 'completed') await confirm(snapshot);
    else if (!seenFailures.has(snapshot._id)) {
      seenFailures.add(snapshot._id);
      failures.push(`export ${snapshot._id} ${snapshot.state === 'canceled' ? 'was canceled' : 'failed (see the backend\'s logs)'}`);
    }
  };
  const seenFailures = new Set<string>();

  // An export still running from before is waited for first: once a newer one is requested,
  // getLatest no longer shows it, and it would keep only the backend's default expiry.
  const before = await settled();
  let requested = false;
  let pending: string | undefined;
  if ('running' in before) {
    pending = before.running._id;
  } else {
    note('latest export', { exportId: before.done?._id, state: before.done?.state ?? 'none' });
    if (before.done) await account(before.done);
    requested = await api.requestExport();
    note(requested ? 'requested an export with file storage' : 'an export is already requested or in progress (ExportInProgress)');
    const after = await settled();
    if ('running' in after) pending = after.running._id;
    else if (after.done === null) throw new Error('The backend lists no export right after one was requested.');
    else await account(after.done);
  }

  log(JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{ Namespace: BACKUP_METRICS.namespace, Dimensions: [[BACKUP_METRICS.dimension]], Metrics: [{ Name: BACKUP_METRICS.confirmed, Unit: 'Count' }] }],
    },
    [BACKUP_METRICS.dimension]: options.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
    [BACKUP_METRICS.confirmed]: confirmed.length,
  }));
  if (failures.length > 0) throw new Error(`Backup failed: ${failures.join('; ')}.`);
  return { confirmed, requested, ...(pending ? { pending } : {}) };
}

/** The three calls of the export API, with the admin key in the Authorization header. */
function backendApi(apiUrl: string, adminKey: string, timeoutMs: number, instanceName: string) {
  const base = apiUrl.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: string): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Convex ${adminKey}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    return { status: response.status, text: await response.text() };
  };
  const fail = (what: string, answer: { status: number; text: string }): BackendError => {
    let code: string | undefined;
    let message = answer.text.slice(0, 300);
    try {
      const parsed = JSON.parse(answer.text) as { code?: string; message?: string };
      code = parsed.code;
      message = parsed.message ?? message;
    } catch {
      // Not JSON: keep the text.
    }
    const hint = answer.status === 401 || answer.status === 403
      ? ` The backend refused the admin key: this function derives it from INSTANCE_NAME '${instanceName}' and the instance secret it reads, so the backend runs with another INSTANCE_NAME or INSTANCE_SECRET (or was given a new secret without a restart).`
      : '';
    return new BackendError(`${what}: HTTP ${answer.status}${code ? ` ${code}` : ''}: ${message}.${hint}`, answer.status, code);
  };
  return {
    /** The latest snapshot export, or null when there has never been one. */
    async latest(): Promise<SnapshotExport | null> {
      const answer = await call('POST', '/api/query', JSON.stringify({ path: '_system/cli/exports:getLatest', args: {}, format: 'json' }));
      if (answer.status !== 200) throw fail('Reading the latest export failed', answer);
      const parsed = JSON.parse(answer.text) as { status: string; value?: SnapshotExport | null; errorMessage?: string };
      if (parsed.status !== 'success') throw new BackendError(`Reading the latest export failed: ${parsed.errorMessage ?? answer.text.slice(0, 300)}`, 200, undefined);
      return parsed.value ?? null;
    },
    /** Requests an export with file storage; false when one is already requested or running. */
    async requestExport(): Promise<boolean> {
      const answer = await call('POST', '/api/export/request/zip?includeStorage=true');
      if (answer.status === 200) return true;
      const error = fail('Requesting an export failed', answer);
      if (answer.status === 400 && error.code === 'ExportInProgress') return false;
      throw error;
    },
    /** Moves a completed export's expiration. */
    async setExpiration(id: string, expirationTsNs: bigint): Promise<void> {
      // Written by hand: the value is past 2^53, and the backend reads it as an exact u64.
      const answer = await call('POST', `/api/export/set_expiration/${encodeURIComponent(id)}`, `{"expirationTsNs":${expirationTsNs.toString()}}`);
      if (answer.status !== 200) throw fail(`Extending the expiration of export ${id} failed`, answer);
    },
  };
}

/** Reads the instance secret by ARN (and JSON field), in the function's region. */
export function secretReader(secretArn: string, field: string | undefined): () => Promise<string> {
  return async () => {
    const client = new SecretsManagerClient({ maxAttempts: 3 });
    try {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
      const value = answer.SecretString;
      if (value === undefined) throw new Error(`Secret ${secretArn} has no string value.`);
      if (field === undefined) return value;
      const fieldValue = (JSON.parse(value) as Record<string, unknown>)[field];
      if (typeof fieldValue !== 'string') throw new Error(`Secret ${secretArn} has no string field '${field}'.`);
      return fieldValue;
    } finally {
      client.destroy();
    }
  };
}

/** The Lambda context members the handler uses. */
export interface BackupContext {
  getRemainingTimeInMillis(): number;
  /**
   * The function's name.
   *
   * @default - AWS_LAMBDA_FUNCTION_NAME
   */
  readonly functionName?: string;
}

/** The function's entry point: settings from its environment. */
export async function handler(_event: unknown, context: BackupContext): Promise<BackupRunResult> {
  const env = process.env;
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`The backup function's environment lacks ${name}; deploy the stack again.`);
    return value;
  };
  return runBackup({
    apiUrl: required(BACKUP_FUNCTION_ENV.apiUrl),
    instanceName: required(BACKUP_FUNCTION_ENV.instanceName),
    readInstanceSecret: secretReader(required(BACKUP_FUNCTION_ENV.instanceSecretArn), env[BACKUP_FUNCTION_ENV.instanceSecretField] || undefined),
    retentionDays: Number(required(BACKUP_FUNCTION_ENV.retentionDays)),
    remainingMs: () => context.getRemainingTimeInMillis(),
    functionName: context.functionName,
  });
}
