/**
 * `convex-storage provision` against s3rver: creation, idempotency, and honest reporting of
 * what s3rver does not support (versioning, lifecycle).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIFECYCLE_DEFAULTS, STORAGE_KINDS } from '../../lib/storage-kinds';
import { lifecycleRulesFor } from '../../lib/cli/lifecycle';
import type { ProvisionResult } from '../../lib/cli/provision-command';
import { S3RVER_KEY, cli, isolateAwsEnv, startS3, tempDir, type TestS3 } from './helpers';

let s3: TestS3;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  isolateAwsEnv();
  // One bucket exists beforehand, to check that an existing bucket counts as done.
  s3 = await startS3(['prov-files']);
  tmp = tempDir();
  const lines = [
    'AWS_REGION=us-east-1',
    `S3_ENDPOINT_URL=${s3.endpoint}`,
    'AWS_S3_FORCE_PATH_STYLE=true',
    `AWS_ACCESS_KEY_ID=${S3RVER_KEY.id}`,
    `AWS_SECRET_ACCESS_KEY=${S3RVER_KEY.secret}`,
    ...STORAGE_KINDS.map((k) => `${k.envVar}=prov-${k.bucketSuffix}`),
  ];
  writeFileSync(join(tmp.dir, '.env'), `${lines.join('\n')}\n`);
  writeFileSync(join(tmp.dir, 'aws.env'), `${lines.filter((l) => !l.startsWith('S3_ENDPOINT_URL')).join('\n')}\n`);
});
afterAll(async () => {
  await s3.close();
  tmp.cleanup();
});

async function provision(...args: string[]) {
  const run = await cli(['provision', '--json', ...args], { cwd: tmp.dir });
  return { ...run, report: run.stdout ? (JSON.parse(run.stdout) as { ok: boolean; buckets: ProvisionResult[] }) : undefined };
}

test('creates the missing buckets, reports unsupported features, and is safe to run twice', async () => {
  const first = await provision();
  expect(first.code).toBe(0);
  expect(first.report?.buckets.map((b) => [b.bucket, b.bucketStatus.status])).toEqual(
    STORAGE_KINDS.map((k) => [`prov-${k.bucketSuffix}`, k.bucketSuffix === 'files' ? 'exists' : 'created']),
  );
  // Measured on s3rver: PUT ?versioning is routed to bucket creation; ?lifecycle is NotImplemented.
  for (const bucket of first.report?.buckets ?? []) {
    expect(bucket.versioning?.status).toBe('unsupported');
    expect(bucket.lifecycle).toMatchObject({ status: 'unsupported', detail: expect.stringMatching(/NotImplemented/) });
  }
  expect(first.stderr).toMatch(/versioning: not supported by this provider/);

  const second = await provision();
  expect(second.code).toBe(0);
  expect(second.report?.buckets.every((b) => b.bucketStatus.status === 'exists')).toBe(true);
});

test('refuses to run against AWS itself and points to cdk deploy', async () => {
  const run = await cli(['provision', '--env-file', 'aws.env'], { cwd: tmp.dir });
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/no S3_ENDPOINT_URL, so it points at AWS S3.*`cdk deploy`/);
});

test('lifecycle rules match the construct: current objects expire only in exports and imports', () => {
  const byKind = Object.fromEntries(STORAGE_KINDS.map((k) => [k.kind, lifecycleRulesFor([k])]));
  expect(byKind.exports.find((r) => r.ID?.endsWith('expire-current-objects'))?.Expiration?.Days).toBe(45);
  expect(byKind.snapshotImports.find((r) => r.ID?.endsWith('expire-current-objects'))?.Expiration?.Days).toBe(30);
  for (const kind of ['files', 'modules', 'search']) {
    expect(byKind[kind].some((r) => r.Expiration?.Days !== undefined)).toBe(false);
  }
  // Single-bucket layout holds files too: no current-object expiry at all.
  expect(lifecycleRulesFor(STORAGE_KINDS).some((r) => r.Expiration?.Days !== undefined)).toBe(false);
  expect(byKind.files.map((r) => [r.AbortIncompleteMultipartUpload?.DaysAfterInitiation, r.NoncurrentVersionExpiration?.NoncurrentDays])).toEqual([
    [LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays, undefined],
    [undefined, LIFECYCLE_DEFAULTS.noncurrentVersionRetentionDays],
  ]);
});
