/**
 * `convex-storage verify` against a real S3-compatible server (s3rver, in-process on 127.0.0.1).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import type { VerifyReport } from '../../lib/cli/verify-command';
import { S3RVER_KEY, cli, closedPort, isolateAwsEnv, s3Error, stalledServer, startS3, tempDir, type TestS3 } from './helpers';

const BUCKETS = STORAGE_KINDS.map((k) => `verify-${k.bucketSuffix}`);
const SINGLE = 'verify-single';

let s3: TestS3;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  isolateAwsEnv();
  s3 = await startS3([...BUCKETS, SINGLE]);
  tmp = tempDir();
});
afterAll(async () => {
  await s3.close();
  tmp.cleanup();
});

/** A working s3rver configuration; `overrides` set (or, with undefined, remove) variables. */
function envFile(name: string, overrides: Record<string, string | undefined> = {}): string {
  const values: Record<string, string | undefined> = {
    AWS_REGION: 'us-east-1',
    S3_ENDPOINT_URL: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_KEY.id,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    // s3rver returns no part checksums (measured); the backend then needs this flag.
    AWS_S3_DISABLE_CHECKSUMS: 'true',
    ...Object.fromEntries(STORAGE_KINDS.map((k, i) => [k.envVar, BUCKETS[i]])),
    ...overrides,
  };
  const text = Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  const path = join(tmp.dir, name);
  writeFileSync(path, `${text}\n`);
  return path;
}

async function verify(file: string, ...extra: string[]): Promise<{ code: number; report: VerifyReport; stderr: string }> {
  const run = await cli(['verify', '--env-file', file, '--json', ...extra], { cwd: tmp.dir });
  return { code: run.code, report: JSON.parse(run.stdout) as VerifyReport, stderr: run.stderr };
}

function failedSteps(report: VerifyReport) {
  return report.variables.flatMap((v) => (v.result?.steps ?? []).filter((s) => s.status === 'failed').map((s) => ({ variable: v.variable, ...s })));
}

function expectNoProbeLeft(buckets: readonly string[]) {
  for (const bucket of buckets) {
    expect(s3.filesIn(bucket).filter((f) => f.includes('convex-storage-verify') || f.includes('_S3rver_uploads'))).toEqual([]);
  }
}

test('happy path: every bucket passes, abort is reported unsupported, nothing is left behind', async () => {
  const { code, report, stderr } = await verify(envFile('ok.env'));
  expect(code).toBe(0);
  expect(report.ok).toBe(true);
  expect(report.variables.map((v) => [v.variable, v.result?.status])).toEqual(STORAGE_KINDS.map((k) => [k.envVar, 'warning']));
  const abort = report.variables[0].result?.steps.find((s) => s.step === 'abortUpload');
  // Measured: s3rver answers AbortMultipartUpload with 405 MethodNotAllowed.
  expect(abort).toMatchObject({ status: 'warning' });
  expect(abort?.detail).toMatch(/does not support AbortMultipartUpload \(MethodNotAllowed/);
  expect(stderr).toMatch(/\[verify-exports\] ranged read: ok/);
  // The abort probe was completed and deleted instead: no parts, no probe objects remain.
  expectNoProbeLeft(BUCKETS);
  expect(report.variables.every((v) => v.result?.leftovers.length === 0)).toBe(true);
});

test('checksums on: reports that the provider returns no CRC32 checksums, in backend terms', async () => {
  const { code, report } = await verify(envFile('checksums.env', { AWS_S3_DISABLE_CHECKSUMS: undefined }));
  expect(code).toBe(1);
  const failures = failedSteps(report);
  expect(failures).toHaveLength(5);
  expect(failures[0]).toMatchObject({ step: 'uploadPart', diagnosis: { code: 'no-checksums', setting: 'AWS_S3_DISABLE_CHECKSUMS' } });
  expect(failures[0].diagnosis?.message).toMatch(/returns no CRC32 checksums.*requires them.*unless AWS_S3_DISABLE_CHECKSUMS=true/);
  expectNoProbeLeft(BUCKETS);
});

test('single-bucket layout: one probe, reported for each of the five variables', async () => {
  const single = Object.fromEntries(STORAGE_KINDS.map((k) => [k.envVar, SINGLE]));
  const { code, report, stderr } = await verify(envFile('single.env', single));
  expect(code).toBe(0);
  expect(report.variables.map((v) => v.bucket)).toEqual(Array(5).fill(SINGLE));
  expect(report.variables.every((v) => v.result?.variables.length === 5)).toBe(true);
  expect(stderr.match(/start multipart upload: ok/g)).toHaveLength(1);
  expect(report.findings.map((f) => f.level)).toEqual(['info']);
});

test('unknown access key: names AWS_ACCESS_KEY_ID', async () => {
  // s3rver checks the key ID but not SigV4 signatures, so a wrong secret alone passes there.
  const { code, report } = await verify(envFile('badkey.env', { AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG0' }));
  expect(code).toBe(1);
  expect(failedSteps(report)[0]).toMatchObject({ step: 'createUpload', diagnosis: { code: 'invalid-access-key', setting: 'AWS_ACCESS_KEY_ID' } });
});

test('no credentials anywhere: names the key variables', async () => {
  const { code, report } = await verify(envFile('nokeys.env', { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }));
  expect(code).toBe(1);
  expect(report.settings.credentialSource).toBe('default-chain');
  expect(failedSteps(report)[0].diagnosis).toMatchObject({ code: 'no-credentials', setting: 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY' });
});

test('missing bucket: names its variable, other buckets still pass', async () => {
  const { code, report } = await verify(envFile('nobucket.env', { S3_STORAGE_SEARCH_BUCKET: 'verify-does-not-exist' }));
  expect(code).toBe(1);
  const failures = failedSteps(report);
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({ variable: 'S3_STORAGE_SEARCH_BUCKET', diagnosis: { code: 'no-such-bucket', setting: 'S3_STORAGE_SEARCH_BUCKET' } });
  expect(failures[0].diagnosis?.message).toMatch(/'verify-does-not-exist' does not exist/);
});

test('closed port: names S3_ENDPOINT_URL', async () => {
  const port = await closedPort();
  const { code, report } = await verify(envFile('closed.env', { S3_ENDPOINT_URL: `http://127.0.0.1:${port}` }));
  expect(code).toBe(1);
  expect(failedSteps(report)[0].diagnosis).toMatchObject({ code: 'endpoint-unreachable', setting: 'S3_ENDPOINT_URL' });
});

test('stalled endpoint: bounded by --timeout, names S3_ENDPOINT_URL', async () => {
  const stalled = await stalledServer();
  try {
    const { code, report } = await verify(envFile('stalled.env', { S3_ENDPOINT_URL: stalled.endpoint }), '--timeout', '0.3');
    expect(code).toBe(1);
    expect(failedSteps(report)[0].diagnosis).toMatchObject({ code: 'endpoint-timeout', setting: 'S3_ENDPOINT_URL' });
    expect(failedSteps(report)[0].diagnosis?.message).toMatch(/No answer within 0.3s/);
  } finally {
    await stalled.close();
  }
});

test('virtual-hosted addressing against localhost fails with a path-style hint; path style works', async () => {
  const localhost = `http://localhost:${s3.port}`;
  const vhost = await verify(envFile('vhost.env', { S3_ENDPOINT_URL: localhost, AWS_S3_FORCE_PATH_STYLE: undefined }));
  expect(vhost.code).toBe(1);
  // Measured: the SDK asks DNS for <bucket>.localhost, which does not resolve here.
  expect(failedSteps(vhost.report)[0].diagnosis).toMatchObject({ code: 'virtual-host-unresolvable', setting: 'AWS_S3_FORCE_PATH_STYLE' });
  const pathStyle = await verify(envFile('pathstyle.env', { S3_ENDPOINT_URL: localhost }));
  expect(pathStyle.code).toBe(0);
});

describe('behind a filter imitating stricter providers', () => {
  test('SSE header rejected: pinpointed, names AWS_S3_DISABLE_SSE', async () => {
    // s3rver itself accepts the header, so a filter rejects it the way MinIO without KMS does.
    const proxy = await s3.withFilter((req, res) =>
      req.headers['x-amz-server-side-encryption'] ? s3Error(res, 501, 'NotImplemented', 'Server side encryption specified but KMS is not configured') : false,
    );
    try {
      const { code, report } = await verify(envFile('sse.env', { S3_ENDPOINT_URL: proxy.endpoint }));
      expect(code).toBe(1);
      expect(failedSteps(report)[0]).toMatchObject({ step: 'createUpload', diagnosis: { code: 'sse-rejected', setting: 'AWS_S3_DISABLE_SSE' } });
      const fixed = await verify(envFile('sse-off.env', { S3_ENDPOINT_URL: proxy.endpoint, AWS_S3_DISABLE_SSE: 'true' }));
      expect(fixed.code).toBe(0);
      expectNoProbeLeft(BUCKETS);
    } finally {
      await proxy.close();
    }
  });

  test('region mismatch: names AWS_REGION and the bucket region', async () => {
    const proxy = await s3.withFilter((_req, res) =>
      s3Error(res, 301, 'PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint.', {
        'x-amz-bucket-region': 'eu-west-1',
      }),
    );
    try {
      const { code, report } = await verify(envFile('region.env', { S3_ENDPOINT_URL: proxy.endpoint }));
      expect(code).toBe(1);
      expect(failedSteps(report)[0].diagnosis).toMatchObject({ code: 'region-mismatch', setting: 'AWS_REGION' });
      expect(failedSteps(report)[0].diagnosis?.message).toMatch(/in eu-west-1.*Set AWS_REGION='eu-west-1'/);
    } finally {
      await proxy.close();
    }
  });

  test('access denied names the IAM action; a denied delete is expected outside the exports bucket', async () => {
    // Like the project's least-privilege policy: DeleteObject only on exports; and no ListBucket.
    const proxy = await s3.withFilter((req, res) => {
      const url = req.url ?? '';
      if (req.method === 'DELETE' && !url.includes('uploadId') && !url.startsWith('/verify-exports/')) {
        return s3Error(res, 403, 'AccessDenied', 'Access Denied');
      }
      if (req.method === 'HEAD' && url.includes('-missing')) {
        res.writeHead(403).end();
        return true;
      }
      return false;
    });
    try {
      const { code, report } = await verify(envFile('denied.env', { S3_ENDPOINT_URL: proxy.endpoint }));
      expect(code).toBe(1);
      const failures = failedSteps(report);
      expect(failures.map((f) => [f.step, f.diagnosis?.setting])).toEqual(Array(5).fill(['missingKey', 's3:ListBucket']));
    } finally {
      await proxy.close();
    }
    const deniedDelete = await s3.withFilter((req, res) =>
      req.method === 'DELETE' && !(req.url ?? '').includes('uploadId') && !(req.url ?? '').startsWith('/verify-exports/')
        ? s3Error(res, 403, 'AccessDenied', 'Access Denied')
        : false,
    );
    try {
      const { code, report } = await verify(envFile('denied-delete.env', { S3_ENDPOINT_URL: deniedDelete.endpoint }));
      expect(code).toBe(0);
      const files = report.variables.find((v) => v.variable === 'S3_STORAGE_FILES_BUCKET')?.result;
      expect(files?.steps.find((s) => s.step === 'delete')).toMatchObject({ status: 'warning' });
      expect(files?.leftovers).toEqual([
        expect.stringMatching(/^s3:\/\/verify-files\/convex-storage-verify\/[-0-9a-f]+-aborted \(probe object/),
        expect.stringMatching(/^s3:\/\/verify-files\/convex-storage-verify\/[-0-9a-f]+ \(probe object/),
      ]);
    } finally {
      await deniedDelete.close();
    }
  });
});

describe('the variables themselves', () => {
  test('missing variables, TRUE, 1 and a presence flag set to false are errors', async () => {
    const file = envFile('bad-vars.env', {
      S3_STORAGE_MODULES_BUCKET: undefined,
      AWS_S3_FORCE_PATH_STYLE: 'TRUE',
      AWS_S3_DISABLE_CHECKSUMS: '1',
      DISABLE_BEACON: 'false',
    });
    const { code, report } = await verify(file, '--file-only');
    expect(code).toBe(1);
    expect(report.findings.filter((f) => f.level === 'error').map((f) => f.variable)).toEqual([
      'S3_STORAGE_MODULES_BUCKET',
      'AWS_S3_FORCE_PATH_STYLE',
      'AWS_S3_DISABLE_CHECKSUMS',
      'DISABLE_BEACON',
    ]);
    expect(report.findings.find((f) => f.variable === 'DISABLE_BEACON')?.message).toMatch(/switches DISABLE_BEACON ON.*remove the DISABLE_BEACON line/);
    expect(report.findings.find((f) => f.variable === 'AWS_S3_FORCE_PATH_STYLE')?.message).toMatch(/is read as false.*Write AWS_S3_FORCE_PATH_STYLE=true/);
  });

  test('human output names the setting; --process-env reads the environment', async () => {
    const run = await cli(['verify', '--process-env', '--file-only'], { cwd: tmp.dir, env: { AWS_REGION: 'us-east-1' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/S3_STORAGE_EXPORTS_BUCKET +- +NOT SET/);
    expect(run.stdout).toMatch(/Result: FAILED \(5 variable problems\)/);
  });
});
