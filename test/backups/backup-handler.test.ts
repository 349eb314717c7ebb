/**
 * The backup function against a loopback server that answers like the backend's export API:
 * the requests it sends (method, path, query, body, an Authorization header that decrypts to a
 * valid key for the instance) and what it does on each answer.
 */
import { BACKUP_FUNCTION_ENV, BACKUP_METRICS } from '../../lib/backups/backup-settings';
import { handler, runBackup, secretReader, type BackupRunOptions } from '../../lib/backups/backup-handler';
import { isolateAwsEnvWithTestKeys } from '../cli/helpers';
import { DEFAULT_EXPIRATION, START_TS, startFakeBackend, type FakeBackend } from './fake-backend';

const NAME = 'convex-prod';
const SECRET = '4361726e697461732c206c69746572616c6c79206d65616e696e6720226c6974';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:InstanceSecret-AbCdEf';
const DAY_NS = BigInt(86_400) * BigInt(1_000_000_000);
const expirationFor = (days: number) => (BigInt(START_TS) + BigInt(days) * DAY_NS).toString();

let backend: FakeBackend;
let logs: string[];

beforeAll(isolateAwsEnvWithTestKeys);
beforeEach(async () => {
  backend = await startFakeBackend({ instanceName: NAME, instanceSecret: SECRET, secretArn: SECRET_ARN });
  logs = [];
});
afterEach(() => backend.close());

function options(overrides: Partial<BackupRunOptions> = {}): BackupRunOptions {
  return {
    apiUrl: backend.url,
    instanceName: NAME,
    readInstanceSecret: async () => SECRET,
    retentionDays: 30,
    remainingMs: () => 600_000,
    pollIntervalMs: 1,
    reserveMs: 0,
    log: (line) => logs.push(line),
    functionName: 'backup-fn',
    ...overrides,
  };
}

/** The requests to the export API, as `METHOD path?query`. */
const calls = () => backend.requests.filter((r) => r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''}`);
const LATEST = 'POST /api/query';
const REQUEST = 'POST /api/export/request/zip?includeStorage=true';

/** The BackupsConfirmed value of the run's Embedded Metric Format line. */
function confirmedMetric(): number {
  const line = logs.map((l) => JSON.parse(l)).find((l) => l._aws);
  expect(line._aws.CloudWatchMetrics[0]).toEqual({ Namespace: BACKUP_METRICS.namespace, Dimensions: [[BACKUP_METRICS.dimension]], Metrics: [{ Name: BACKUP_METRICS.confirmed, Unit: 'Count' }] });
  expect(line[BACKUP_METRICS.dimension]).toBe('backup-fn');
  return line[BACKUP_METRICS.confirmed];
}

test('first run: requests an export with storage, waits for it, and extends it to the retention', async () => {
  const result = await runBackup(options());
  expect(result).toEqual({ confirmed: ['export1'], requested: true });
  expect(calls()).toEqual([LATEST, REQUEST, LATEST, LATEST, LATEST, 'POST /api/export/set_expiration/export1']);
  // Every request carries a key the instance accepts: a full-access key of member 0, issued now.
  for (const request of backend.requests) {
    expect(request.headers.authorization).toMatch(/^Convex convex-prod\|01[0-9a-f]+$/);
    expect(request.claims).toMatchObject({ memberId: 0, readOnly: false });
    expect(Math.abs(request.claims!.issuedAtSeconds - Date.now() / 1000)).toBeLessThan(5);
  }
  const query = backend.requests.find((r) => r.path === '/api/query')!;
  expect(JSON.parse(query.body)).toEqual({ path: '_system/cli/exports:getLatest', args: {}, format: 'json' });
  expect(query.headers['content-type']).toBe('application/json');
  const extend = backend.requests.find((r) => r.path.startsWith('/api/export/set_expiration/'))!;
  // The exact u64, past 2^53: start_ts + 30 days in nanoseconds.
  expect(extend.body).toBe(`{"expirationTsNs":${expirationFor(30)}}`);
  expect(backend.exports[0].expiration_ts).toBe(expirationFor(30));
  expect(confirmedMetric()).toBe(1);
  // The start_ts a download (GET /api/export/zip/<start_ts>) needs is in the log.
  expect(logs.map((l) => JSON.parse(l)).find((l) => l.exportId === 'export1' && l.startTs)).toMatchObject({ startTs: START_TS, expirationTsNs: expirationFor(30) });
});

test('a completed previous export is extended first; an export still running when time is up is left to the next run', async () => {
  backend.exports.push({ _id: 'old', state: 'completed', start_ts: START_TS, expiration_ts: DEFAULT_EXPIRATION });
  backend.progression = ['in_progress', 'in_progress', 'in_progress', 'completed'];
  let remaining = 3;
  const result = await runBackup(options({ remainingMs: () => (remaining -= 1) * 1000, pollIntervalMs: 1000, reserveMs: 0 }));
  expect(result).toEqual({ confirmed: ['old'], requested: true, pending: 'export1' });
  expect(calls()).toEqual([LATEST, 'POST /api/export/set_expiration/old', REQUEST, LATEST, LATEST, LATEST]);
  expect(backend.exports.map((e) => [e._id, e.state, e.expiration_ts])).toEqual([
    ['old', 'completed', expirationFor(30)],
    ['export1', 'in_progress', DEFAULT_EXPIRATION],
  ]);
  expect(confirmedMetric()).toBe(1);
  expect(logs.some((l) => l.includes('the next run confirms it'))).toBe(true);

  // The next run waits for it before requesting another (getLatest would no longer show it),
  // then backs up again.
  logs = [];
  backend.requests.length = 0;
  backend.progression = ['completed'];
  const next = await runBackup(options());
  expect(next).toEqual({ confirmed: ['export1', 'export2'], requested: true });
  expect(calls()).toEqual([LATEST, LATEST, 'POST /api/export/set_expiration/export1', REQUEST, LATEST, LATEST, 'POST /api/export/set_expiration/export2']);
  expect(backend.exports.map((e) => e.expiration_ts)).toEqual([expirationFor(30), expirationFor(30), expirationFor(30)]);
  expect(confirmedMetric()).toBe(2);
});

test('an export running from before that outlasts the run: nothing new is requested', async () => {
  backend.exports.push({ _id: 'long', state: 'in_progress', start_ts: START_TS, expiration_ts: DEFAULT_EXPIRATION, next: ['in_progress', 'in_progress'] });
  const result = await runBackup(options({ remainingMs: () => 0 }));
  expect(result).toEqual({ confirmed: [], requested: false, pending: 'long' });
  expect(calls()).toEqual([LATEST]);
  expect(confirmedMetric()).toBe(0);
});

test('400 ExportInProgress is not an error: the run waits for the export someone else started and extends it', async () => {
  // Someone else's export starts between this run's first look and its request.
  backend.exports.push({ _id: 'done', state: 'completed', start_ts: START_TS, expiration_ts: expirationFor(40) });
  backend.beforeRequest = () => {
    backend.exports.push({ _id: 'theirs', state: 'in_progress', start_ts: START_TS, expiration_ts: DEFAULT_EXPIRATION, next: ['in_progress', 'completed'] });
    backend.beforeRequest = undefined;
  };
  const result = await runBackup(options({ retentionDays: 14 }));
  expect(result).toEqual({ confirmed: ['done', 'theirs'], requested: false });
  expect(calls()).toEqual([LATEST, REQUEST, LATEST, LATEST, LATEST]);
  // 14 days is what the backend already keeps it for: nothing to extend.
  expect(calls()).not.toContainEqual(expect.stringContaining('set_expiration'));
  expect(logs.some((l) => l.includes('ExportInProgress'))).toBe(true);
  expect(confirmedMetric()).toBe(2);
});

test('an expiration already past the retention is left alone', async () => {
  backend.exports.push({ _id: 'kept', state: 'completed', start_ts: START_TS, expiration_ts: expirationFor(40) });
  const result = await runBackup(options());
  expect(result.confirmed).toEqual(['kept', 'export1']);
  expect(calls()).not.toContain('POST /api/export/set_expiration/kept');
  expect(backend.exports[0].expiration_ts).toBe(expirationFor(40));
});

test('a failed export fails the run (the error alarm fires), after the metric line', async () => {
  backend.progression = ['in_progress', 'failed'];
  await expect(runBackup(options())).rejects.toThrow('Backup failed: export export1 failed');
  expect(calls()).not.toContainEqual(expect.stringContaining('set_expiration'));
  expect(confirmedMetric()).toBe(0);
});

test('a previous failed export still gets a new backup requested, then fails the run', async () => {
  backend.exports.push({ _id: 'broken', state: 'failed', start_ts: START_TS });
  await expect(runBackup(options())).rejects.toThrow("Backup failed: export broken failed (see the backend's logs).");
  expect(calls().slice(0, 2)).toEqual([LATEST, REQUEST]);
  expect(backend.exports[1]).toMatchObject({ _id: 'export1', state: 'completed', expiration_ts: expirationFor(30) });
  expect(confirmedMetric()).toBe(1);
});

test('401: a key for another instance or secret is refused, with what to check', async () => {
  const other = await runBackup(options({ instanceName: 'convex-dev' })).catch((err: Error) => err);
  expect(other).toBeInstanceOf(Error);
  expect((other as Error).message).toContain('HTTP 401 BadAdminKey: The provided admin key was invalid for this instance.');
  expect((other as Error).message).toContain("INSTANCE_NAME 'convex-dev'");
  await expect(runBackup(options({ readInstanceSecret: async () => 'ab'.repeat(32) }))).rejects.toThrow(/HTTP 401/);
  expect(calls()).toEqual([LATEST, LATEST]);
});

test('other answers and an unreachable backend are errors that say what was being done', async () => {
  await expect(runBackup(options({ apiUrl: `${backend.url}/prefix` }))).rejects.toThrow('Reading the latest export failed: HTTP 404 NotFound: No route.');
  await expect(runBackup(options({ apiUrl: 'http://127.0.0.1:9', requestTimeoutMs: 2000 }))).rejects.toThrow(/fetch failed/);
  // A trailing slash on the URL is fine.
  await expect(runBackup(options({ apiUrl: `${backend.url}/` }))).resolves.toMatchObject({ confirmed: ['export1'] });
});

test('the key and the secret appear in no log line and not in the result', async () => {
  const result = await runBackup(options());
  const key = backend.requests[0].headers.authorization!.slice('Convex '.length);
  for (const text of [...logs, JSON.stringify(result)]) {
    expect(text).not.toContain(key.split('|')[1]);
    expect(text).not.toContain(SECRET);
  }
});

describe('the entry point', () => {
  const env = {
    [BACKUP_FUNCTION_ENV.instanceName]: NAME,
    [BACKUP_FUNCTION_ENV.instanceSecretArn]: SECRET_ARN,
    [BACKUP_FUNCTION_ENV.retentionDays]: '21',
  };
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
    Object.assign(process.env, env, { [BACKUP_FUNCTION_ENV.apiUrl]: backend.url, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SECRETS_MANAGER: backend.url });
  });
  afterEach(() => {
    process.env = saved;
  });

  test('reads the secret from Secrets Manager by ARN, then backs up', async () => {
    // Completed at the first look: the entry point polls every 15 s.
    backend.firstState = 'completed';
    backend.progression = [];
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const result = await handler({}, { getRemainingTimeInMillis: () => 600_000, functionName: 'backup-fn' });
      expect(result.confirmed).toEqual(['export1']);
    } finally {
      spy.mockRestore();
    }
    const read = backend.requests.find((r) => r.headers['x-amz-target'] === 'secretsmanager.GetSecretValue')!;
    expect(JSON.parse(read.body)).toEqual({ SecretId: SECRET_ARN });
    // Signed with SigV4 for Secrets Manager in the function's region.
    expect(read.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/);
    expect(backend.exports[0].expiration_ts).toBe(expirationFor(21));
  }, 20_000);

  test('a JSON secret is read from its field; a missing variable is named', async () => {
    await backend.close();
    backend = await startFakeBackend({ instanceName: NAME, instanceSecret: JSON.stringify({ value: SECRET }), secretArn: SECRET_ARN });
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = backend.url;
    await expect(secretReader(SECRET_ARN, 'value')()).resolves.toBe(SECRET);
    await expect(secretReader(SECRET_ARN, 'other')()).rejects.toThrow("no string field 'other'");
    delete process.env[BACKUP_FUNCTION_ENV.apiUrl];
    await expect(handler({}, { getRemainingTimeInMillis: () => 1000 })).rejects.toThrow(`lacks ${BACKUP_FUNCTION_ENV.apiUrl}`);
  }, 20_000);
});
