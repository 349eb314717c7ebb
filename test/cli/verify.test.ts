/**
 * `convex-storage verify` against a real S3-compatible server (s3rver, in-process on 127.0.0.1).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import type { VerifyReport } from '../../lib/cli/verify-command';
import {
  S3RVER_KEY,
  cli,
  closedPort,
  denyDeleteIn,
  firstOf,
  isolateAwsEnv,
  requestTarget,
  s3Error,
  stalledServer,
  startS3,
  tempDir,
  type RequestFilter,
  type TestS3,
} from './helpers';

const BUCKETS = STORAGE_KINDS.map((k) => `verify-${k.bucketSuffix}`);
/** Buckets for the test that leaves incomplete uploads behind (s3rver cannot abort). */
const LEAST_BUCKETS = STORAGE_KINDS.map((k) => `verify-least-${k.bucketSuffix}`);
const SINGLE = 'verify-single';

let s3: TestS3;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  isolateAwsEnv();
  s3 = await startS3([...BUCKETS, ...LEAST_BUCKETS, SINGLE]);
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
  return report.variables.flatMap((v) =>
    (v.result?.steps ?? []).filter((s) => s.status === 'failed').map((s) => ({ variable: v.variable, bucket: v.bucket, ...s })),
  );
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
  // (s3rver is plain http: that warning is tested on its own below.)
  expect(report.findings.filter((f) => f.variable !== 'S3_ENDPOINT_URL').map((f) => f.level)).toEqual(['info']);
});

test('unknown access key: names AWS_ACCESS_KEY_ID', async () => {
  // s3rver checks the key ID but not SigV4 signatures, so a wrong secret alone passes there.
  const { code, report } = await verify(envFile('badkey.env', { AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG0' }));
  expect(code).toBe(1);
  // The first request is the delete-permission check (a key that does not exist).
  expect(failedSteps(report)[0]).toMatchObject({ step: 'deleteCheck', diagnosis: { code: 'invalid-access-key', setting: 'AWS_ACCESS_KEY_ID' } });
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
});

describe('behind a filter: credentials, region, checksum header, ranged reads', () => {
  /** Runs verify (--json) with `overrides` against a filter in front of s3rver. */
  async function verifyFiltered(filter: RequestFilter, name: string, overrides: Record<string, string | undefined> = {}) {
    const proxy = await s3.withFilter(filter);
    try {
      return await verify(envFile(name, { S3_ENDPOINT_URL: proxy.endpoint, ...overrides }));
    } finally {
      await proxy.close();
    }
  }

  test('SignatureDoesNotMatch: names AWS_SECRET_ACCESS_KEY (s3rver itself checks no signature)', async () => {
    const { code, report } = await verifyFiltered(
      (_req, res) => s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'),
      'badsecret.env',
    );
    expect(code).toBe(1);
    expect(failedSteps(report)).toHaveLength(5);
    expect(failedSteps(report)[0]).toMatchObject({ step: 'deleteCheck', diagnosis: { code: 'wrong-secret', setting: 'AWS_SECRET_ACCESS_KEY' } });
  });

  test('AuthorizationHeaderMalformed naming another region: names AWS_REGION with that region', async () => {
    const { code, report } = await verifyFiltered(
      (_req, res) =>
        s3Error(res, 400, 'AuthorizationHeaderMalformed', "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-southeast-2'"),
      'authregion.env',
    );
    expect(code).toBe(1);
    const diagnosis = failedSteps(report)[0].diagnosis;
    expect(diagnosis).toMatchObject({ code: 'region-mismatch', setting: 'AWS_REGION' });
    expect(diagnosis?.message).toMatch(/is in ap-southeast-2, but AWS_REGION=us-east-1\. Set AWS_REGION='ap-southeast-2'/);
  });

  test('checksum header rejected, upload accepted without it: names AWS_S3_DISABLE_CHECKSUMS=true', async () => {
    const rejectChecksumHeader: RequestFilter = (req, res) =>
      req.method === 'POST' && requestTarget(req).query.has('uploads') && req.headers['x-amz-checksum-algorithm'] !== undefined
        ? s3Error(res, 400, 'InvalidArgument', 'x-amz-checksum-algorithm is not supported')
        : false;
    const { code, report } = await verifyFiltered(rejectChecksumHeader, 'checksum-header.env', { AWS_S3_DISABLE_CHECKSUMS: undefined });
    expect(code).toBe(1);
    const failures = failedSteps(report);
    expect(failures).toHaveLength(5);
    expect(failures[0]).toMatchObject({ step: 'createUpload', diagnosis: { code: 'checksums-rejected', setting: 'AWS_S3_DISABLE_CHECKSUMS' } });
    expect(failures[0].diagnosis?.message).toMatch(/rejects the 'x-amz-checksum-algorithm: CRC32' header.*accepts the upload without it\. Set AWS_S3_DISABLE_CHECKSUMS=true\./);
    // The upload that proved it was removed too.
    expectNoProbeLeft(BUCKETS);
  });

  test('a ranged read without Content-Range: a warning naming AWS_S3_DISABLE_RANGE_PREFETCH=true', async () => {
    // The right bytes, but no Content-Range header, as some providers answer.
    const dropContentRange: RequestFilter = (req, res) => {
      if (req.method === 'GET' && req.headers.range !== undefined) {
        const setHeader = res.setHeader.bind(res);
        res.setHeader = (name, value) => (name.toLowerCase() === 'content-range' ? res : setHeader(name, value));
      }
      return false;
    };
    const { code, report } = await verifyFiltered(dropContentRange, 'range.env');
    expect(code).toBe(0);
    for (const { result } of report.variables) {
      expect(result?.steps.find((st) => st.step === 'rangedGet')).toMatchObject({
        status: 'warning',
        detail: expect.stringMatching(/^Content-Range was '', expected 'bytes 0-15\/\d+'; if reads fail, set AWS_S3_DISABLE_RANGE_PREFETCH=true$/),
      });
    }
    expectNoProbeLeft(BUCKETS);
  });
});

describe('least privilege: s3:DeleteObject only where the backend deletes', () => {
  const backendDeletes = STORAGE_KINDS.filter((k) => k.backendDeletes).map((k) => BUCKETS[STORAGE_KINDS.indexOf(k)]);
  const noDelete = BUCKETS.filter((b) => !backendDeletes.includes(b));

  /** Runs verify behind `filter`, recording every request that could create a complete object. */
  async function verifyBehind(filter: RequestFilter, name: string, overrides: Record<string, string | undefined> = {}) {
    const completions: string[] = [];
    const proxy = await s3.withFilter((req, res) => {
      const { bucket, key, query } = requestTarget(req);
      if ((req.method === 'POST' && query.has('uploadId')) || (req.method === 'PUT' && key !== '' && !query.has('uploadId'))) {
        completions.push(bucket);
      }
      return filter(req, res);
    });
    try {
      return { ...(await verify(envFile(name, { S3_ENDPOINT_URL: proxy.endpoint, ...overrides }))), completions };
    } finally {
      await proxy.close();
    }
  }

  function expectBucketsEmpty(buckets: readonly string[]) {
    for (const bucket of buckets) {
      expect([bucket, s3.filesIn(bucket)]).toEqual([bucket, []]);
    }
  }

  test('denied delete outside exports: expected, no complete object there, nothing left in any bucket', async () => {
    const { code, report, stderr, completions } = await verifyBehind(firstOf(denyDeleteIn(noDelete), s3.abortUploads), 'least.env');
    expect(code).toBe(0);
    for (const { bucket, result } of report.variables) {
      const deletes = backendDeletes.includes(bucket);
      expect(result?.deleteAllowed).toBe(deletes);
      expect(result?.steps.map((st) => [st.step, st.status])).toEqual(
        deletes
          ? [['deleteCheck', 'ok'], ['createUpload', 'ok'], ['uploadPart', 'ok'], ['completeUpload', 'ok'], ['rangedGet', 'ok'], ['head', 'ok'], ['missingKey', 'ok'], ['delete', 'ok'], ['abortUpload', 'ok']]
          : [['deleteCheck', 'ok'], ['createUpload', 'ok'], ['uploadPart', 'ok'], ['abortUpload', 'ok'], ['missingGet', 'ok']],
      );
      expect(result?.leftovers).toEqual([]);
    }
    expect(stderr).toMatch(/\[verify-files\] delete permission \(key that does not exist\): ok - denied, as least privilege intends here/);
    // Only the bucket where deleting is allowed ever got a complete object.
    expect([...new Set(completions)]).toEqual(backendDeletes);
    expectBucketsEmpty(BUCKETS);
  });

  test('denied delete in the exports bucket: a failure naming s3:DeleteObject; the rest is still checked', async () => {
    const { code, report, completions } = await verifyBehind(firstOf(denyDeleteIn(BUCKETS), s3.abortUploads), 'no-delete.env');
    expect(code).toBe(1);
    const failures = failedSteps(report);
    expect(failures.map((f) => [f.variable, f.step, f.diagnosis?.setting])).toEqual(
      STORAGE_KINDS.filter((k) => k.backendDeletes).map((k) => [k.envVar, 'deleteCheck', 's3:DeleteObject']),
    );
    expect(failures[0].diagnosis?.message).toMatch(/backend deletes expired snapshot exports there: grant s3:DeleteObject/);
    const exports = report.variables.find((v) => v.variable === 'S3_STORAGE_EXPORTS_BUCKET')?.result;
    expect(exports?.steps.map((st) => st.step)).toEqual(['deleteCheck', 'createUpload', 'uploadPart', 'abortUpload', 'missingGet']);
    expect(completions).toEqual([]);
    expectBucketsEmpty(BUCKETS);
  });

  test('a step failing with delete denied (no CRC32 back) still leaves nothing behind', async () => {
    const { code, report, completions } = await verifyBehind(firstOf(denyDeleteIn(noDelete), s3.abortUploads), 'no-delete-crc.env', {
      AWS_S3_DISABLE_CHECKSUMS: undefined,
    });
    expect(code).toBe(1);
    expect(failedSteps(report).map((f) => [f.step, f.diagnosis?.code])).toEqual(Array(5).fill(['uploadPart', 'no-checksums']));
    expect([...new Set(completions)]).toEqual([]);
    expectBucketsEmpty(BUCKETS);
  });

  test('no s3:ListBucket: a missing key answers 403, naming s3:ListBucket (and s3:GetObject without a probe object)', async () => {
    const { code, report } = await verifyBehind(
      firstOf(
        denyDeleteIn(noDelete),
        s3.abortUploads,
        (req, res) => {
          if (!requestTarget(req).key.endsWith('-missing')) {
            return false;
          }
          return req.method === 'HEAD' ? (res.writeHead(403).end(), true) : s3Error(res, 403, 'AccessDenied', 'Access Denied');
        },
      ),
      'no-list.env',
    );
    expect(code).toBe(1);
    expect(failedSteps(report).map((f) => [f.bucket, f.step, f.diagnosis?.setting])).toEqual(
      BUCKETS.map((b) => (backendDeletes.includes(b) ? [b, 'missingKey', 's3:ListBucket'] : [b, 'missingGet', 's3:GetObject, s3:ListBucket'])),
    );
    expect(failedSteps(report).find((f) => f.step === 'missingGet')?.diagnosis?.message).toMatch(
      /answers 403 instead of 404 NoSuchKey.*s3:GetObject on arn:aws:s3:::verify-\S+\/\* or s3:ListBucket on arn:aws:s3:::verify-/,
    );
    expectBucketsEmpty(BUCKETS);
  });

  test('delete denied and abort unsupported (s3rver): the incomplete upload is reported, with the lifecycle rule that removes it', async () => {
    const leastNoDelete = LEAST_BUCKETS.filter((_, i) => !STORAGE_KINDS[i].backendDeletes);
    const { code, report, completions } = await verifyBehind(denyDeleteIn(leastNoDelete), 'no-abort.env', {
      ...Object.fromEntries(STORAGE_KINDS.map((k, i) => [k.envVar, LEAST_BUCKETS[i]])),
    });
    expect(code).toBe(0);
    // Where deleting is allowed, the unabortable upload is completed and deleted instead (as before).
    expect([...new Set(completions)]).toEqual(LEAST_BUCKETS.filter((b) => !leastNoDelete.includes(b)));
    const files = report.variables.find((v) => v.variable === 'S3_STORAGE_FILES_BUCKET')?.result;
    expect(files?.steps.find((st) => st.step === 'abortUpload')).toMatchObject({
      status: 'warning',
      detail: expect.stringMatching(/does not support AbortMultipartUpload.*So does this check's upload.*verify may not delete here/),
    });
    expect(files?.leftovers).toEqual([
      expect.stringMatching(
        /^s3:\/\/verify-least-files\/convex-storage-verify\/[-0-9a-f]+ \(incomplete multipart upload [0-9a-f]+; the bucket's abort-incomplete-multipart-upload lifecycle rule removes it \(after 7 days in the CDK construct/,
      ),
    ]);
    // What is left is exactly one stored upload per bucket without delete, and never an object.
    expectBucketsEmpty(LEAST_BUCKETS.filter((b) => !leastNoDelete.includes(b)));
    for (const bucket of leastNoDelete) {
      const left = s3.filesIn(bucket);
      expect(left.length).toBeGreaterThan(0);
      expect(left.every((f) => f.startsWith(`${bucket}/._S3rver_uploads/`))).toBe(true);
      expect(new Set(left.map((f) => f.split('/')[2])).size).toBe(1);
    }
  });
});

describe('INSTANCE_NAME and the narrowed access policy', () => {
  /** Like the policy narrowed to `my-app`: objects only under `my-app-<uuid>/`. */
  const narrowed: RequestFilter = (req, res) => {
    const { key } = requestTarget(req);
    if (key === '' || /^my-app-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\//.test(key)) {
      return false;
    }
    return req.method === 'HEAD' ? (res.writeHead(403).end(), true) : s3Error(res, 403, 'AccessDenied', 'Access Denied');
  };

  test('probe keys take the backend\'s shape <INSTANCE_NAME>-<fresh uuid>/..., which the narrowed policy allows', async () => {
    const keys: string[] = [];
    const proxy = await s3.withFilter((req, res) => {
      const { key } = requestTarget(req);
      if (key !== '') {
        keys.push(key);
      }
      return narrowed(req, res);
    });
    try {
      const ok = await verify(envFile('instance.env', { S3_ENDPOINT_URL: proxy.endpoint, INSTANCE_NAME: 'my-app' }));
      expect(failedSteps(ok.report)).toEqual([]);
      expect(ok.code).toBe(0);
      expect(keys.every((k) => /^my-app-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\/convex-storage-verify-[-0-9a-f]{36}/.test(k))).toBe(true);
      // A fresh prefix per probe, never the backend's own.
      expect(new Set(keys.map((k) => k.split('/')[0])).size).toBe(BUCKETS.length);
      expectNoProbeLeft(BUCKETS);

      // Without INSTANCE_NAME the same policy denies the probe's writes: the filter does bite.
      const denied = await verify(envFile('no-instance.env', { S3_ENDPOINT_URL: proxy.endpoint }));
      expect(denied.code).toBe(1);
      expect(failedSteps(denied.report).filter((f) => f.step === 'createUpload').map((f) => [f.bucket, f.diagnosis?.setting])).toEqual(
        BUCKETS.map((b) => [b, 's3:PutObject']),
      );
      expectNoProbeLeft(BUCKETS);
    } finally {
      await proxy.close();
    }
  });
});

describe('credentials from the default chain (role mode)', () => {
  test('warns that a pass proves the buckets and settings, not the backend role\'s permissions', async () => {
    // This machine's chain: environment keys of the process, as a profile or SSO session would be.
    process.env.AWS_ACCESS_KEY_ID = S3RVER_KEY.id;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_KEY.secret;
    try {
      const file = envFile('role.env', { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
      const run = await cli(['verify', '--file', file], { cwd: tmp.dir, env: process.env });
      expect(run.code).toBe(0);
      // The chain reads the process's keys first: the report names them, not the file.
      expect(run.stderr).toMatch(
        /warning No access keys in .*role\.env: verify signs its requests with AWS_ACCESS_KEY_ID S3RVER from this process's environment \(the default credential chain reads it first\), not from .*role\.env/,
      );
      expect(run.stderr).toMatch(/Probing 5 buckets \(.*, AWS_ACCESS_KEY_ID S3RVER from this process's environment/);
      // Without keys in the environment the warning names the profile the chain will use. (The
      // endpoint is a closed port: only what the warning says is under test here.)
      const closed = envFile('role-profile.env', {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        S3_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`,
      });
      const noEnvKeys = await cli(['verify', '--file', closed, '--json'], { cwd: tmp.dir, env: { AWS_PROFILE: 'admin' } });
      expect(noEnvKeys.code).toBe(1);
      const profileReport = JSON.parse(noEnvKeys.stdout) as VerifyReport;
      expect(profileReport.credentials).toBe("this machine's default credential chain (profile 'admin')");
      const chainWarning = profileReport.findings.find((f) => f.variable === 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN');
      expect(chainWarning?.level).toBe('warning');
      expect(chainWarning?.message).toMatch(
        /^No access keys in .*role-profile\.env: verify signs its requests with this machine's default credential chain \(profile 'admin'\), often an administrator's/,
      );
      expect(noEnvKeys.stdout).not.toMatch(/from this process's environment/);
      expect(failedSteps(profileReport)[0].diagnosis).toMatchObject({ code: 'endpoint-unreachable', setting: 'S3_ENDPOINT_URL' });
      expect(run.stdout).toMatch(/warning: No access keys.*A pass proves the buckets and their settings, but not the role's permissions.*run verify where the backend runs/);
      expect(run.stdout).toMatch(/Result: OK with warnings/);
      const json = await verify(file);
      expect(json.report.findings).toContainEqual(
        expect.objectContaining({ level: 'warning', variable: 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN' }),
      );
      // With keys in the file, verify tests those keys, even with others in the environment
      // (as when Node loaded the file with --env-file before the script): no such warning.
      const withKeys = await cli(['verify', '--file', envFile('keys.env', { AWS_ACCESS_KEY_ID: 'S3RVER' }), '--json'], {
        cwd: tmp.dir,
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAOTHERKEY00000000', AWS_SECRET_ACCESS_KEY: 'other' },
      });
      const report = JSON.parse(withKeys.stdout) as VerifyReport;
      expect(report.findings.filter((f) => f.level === 'warning' && f.variable !== 'S3_ENDPOINT_URL')).toEqual([]);
      expect(report.credentials).toMatch(/^keys from .*keys\.env \(AWS_ACCESS_KEY_ID S3RVER\)$/);
      expect(withKeys.code).toBe(0);
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
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

  test('reads the file with the shared .env parser: a quoted value followed by a comment', async () => {
    const path = join(tmp.dir, 'commented.env');
    writeFileSync(path, `AWS_REGION='us-east-1' # prod\nAWS_S3_DISABLE_SSE=true # KMS\n`);
    const { report } = await verify(path, '--file-only');
    expect(report.settings).toMatchObject({ region: 'us-east-1', sse: false });
    expect(report.findings.filter((f) => f.level === 'error').map((f) => f.variable)).toEqual(STORAGE_KINDS.map((k) => k.envVar));
  });

  test('--file and --env-file are one option; neither combines with --process-env', async () => {
    const file = envFile('alias.env');
    const both = await cli(['verify', '--file', file, '--env-file', 'other.env', '--file-only'], { cwd: tmp.dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--file and --env-file are the same option and name different files/);
    const withProcessEnv = await cli(['verify', '--file', file, '--process-env'], { cwd: tmp.dir });
    expect(withProcessEnv.code).toBe(2);
    expect(withProcessEnv.stderr).toMatch(/do not combine it with --file/);
    const same = await cli(['verify', '--file', file, '--env-file', file, '--file-only'], { cwd: tmp.dir });
    expect(same.code).toBe(0);
  });

  test('--file-only on good variables: says the buckets were not probed, not that the storage works', async () => {
    const run = await cli(['verify', '--file', envFile('file-only.env', { S3_ENDPOINT_URL: 'https://minio.example.com' }), '--file-only'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\nResult: variables OK; buckets not probed \(--file-only\)\.\n$/);
    expect(run.stdout).not.toMatch(/the backend can use this storage/);
    expect(run.stderr).not.toMatch(/Probing/);
  });

  test('an http:// S3_ENDPOINT_URL warns that Node actions with externalPackages cannot upload to it; https does not', async () => {
    const http = await cli(['verify', '--file', envFile('http.env', { S3_ENDPOINT_URL: 'http://minio.internal:9000' }), '--file-only', '--json'], { cwd: tmp.dir });
    expect(http.code).toBe(0);
    const findings = (JSON.parse(http.stdout) as VerifyReport).findings.filter((f) => f.variable === 'S3_ENDPOINT_URL');
    expect(findings).toEqual([expect.objectContaining({ level: 'warning' })]);
    expect(findings[0].message).toMatch(/^S3_ENDPOINT_URL='http:\/\/minio.internal:9000' is plain http:\/\/: Node actions that use externalPackages cannot deploy, because the backend's Node executor uploads their packages only to https: URLs/);
    const human = await cli(['verify', '--file', envFile('http-human.env', { S3_ENDPOINT_URL: 'http://minio.internal:9000' }), '--file-only'], { cwd: tmp.dir });
    expect(human.stdout).toMatch(/externalPackages cannot deploy/);
    const https = await cli(['verify', '--file', envFile('https.env', { S3_ENDPOINT_URL: 'https://minio.internal:9000' }), '--file-only', '--json'], { cwd: tmp.dir });
    expect((JSON.parse(https.stdout) as VerifyReport).findings.filter((f) => f.variable === 'S3_ENDPOINT_URL')).toEqual([]);
  });

  test('human output names the setting; --process-env reads the environment', async () => {
    const run = await cli(['verify', '--process-env', '--file-only'], { cwd: tmp.dir, env: { AWS_REGION: 'us-east-1' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/S3_STORAGE_EXPORTS_BUCKET +- +NOT SET/);
    expect(run.stdout).toMatch(/Result: FAILED \(5 variable problems\)/);
  });
});

describe('object lock and AWS_S3_DISABLE_CHECKSUMS', () => {
  /** Answers GetObjectLockConfiguration for `bucket` with a default retention, as S3 documents it. */
  const lockedBucket = (locked: string): RequestFilter => (req, res) => {
    const { bucket, key, query } = requestTarget(req);
    if (req.method !== 'GET' || key !== '' || !query.has('object-lock')) return false;
    if (bucket !== locked) return s3Error(res, 404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?><ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>'
      + '<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>');
    return true;
  };

  test('checksums disabled against a bucket with a default retention: refused before any write, naming the setting', async () => {
    const files = BUCKETS[STORAGE_KINDS.findIndex((k) => k.kind === 'files')];
    const proxy = await s3.withFilter(lockedBucket(files));
    try {
      const { code, report, stderr } = await verify(envFile('locked.env', { S3_ENDPOINT_URL: proxy.endpoint }));
      expect(code).toBe(1);
      expect(report.findings.filter((f) => f.level === 'error')).toEqual([expect.objectContaining({
        variable: 'AWS_S3_DISABLE_CHECKSUMS',
        message: expect.stringContaining(`bucket ${files} (S3_STORAGE_FILES_BUCKET) has S3 Object Lock with a default retention (GOVERNANCE, 30 days)`),
      })]);
      expect(report.skipped).toMatch(/cannot write to buckets with an object lock retention/);
      expect(report.variables.every((v) => v.result === undefined)).toBe(true);
      expect(stderr).toMatch(/Not probing/);
      expectNoProbeLeft(BUCKETS);
    } finally {
      await proxy.close();
    }
  });

  test('with checksums on, the lock is not asked about (the backend\'s checksummed parts satisfy it)', async () => {
    const asked: string[] = [];
    const proxy = await s3.withFilter((req) => {
      if (requestTarget(req).query.has('object-lock')) asked.push(req.url ?? '');
      return false;
    });
    try {
      await verify(envFile('locked-checksums.env', { S3_ENDPOINT_URL: proxy.endpoint, AWS_S3_DISABLE_CHECKSUMS: undefined }));
      expect(asked).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
