/**
 * `convex-storage provision` against s3rver: creation, idempotency, and honest reporting of
 * what s3rver does not support (versioning, lifecycle).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { RULE_ID_PREFIX, lifecycleRulesFor } from '../../lib/cli/lifecycle';
import type { ProvisionResult } from '../../lib/cli/provision-command';
import { ConvexStorage, StorageLayout } from '../../lib/storage/convex-storage';
import { STORAGE_KINDS, type StorageKindSpec } from '../../lib/storage-kinds';
import { unitTestStack } from '../helpers/cdk-app';
import { S3RVER_KEY, cli, isolateAwsEnv, requestTarget, s3Error, startS3, tempDir, type TestS3 } from './helpers';

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

/** What a set of lifecycle rules does, in terms both CloudFormation and the S3 API can express. */
interface RuleEffect {
  readonly id: string;
  readonly abortDays?: number;
  readonly noncurrentDays?: number;
  readonly expiredDeleteMarker?: boolean;
  readonly currentExpiryDays?: number;
}

/** The effect of the rules provision sets (IDs without provision's prefix). */
function effectOfSdkRules(rules: readonly LifecycleRule[]): RuleEffect[] {
  return rules.map((r) => ({
    id: (r.ID ?? '').replace(RULE_ID_PREFIX, ''),
    abortDays: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    noncurrentDays: r.NoncurrentVersionExpiration?.NoncurrentDays,
    expiredDeleteMarker: r.Expiration?.ExpiredObjectDeleteMarker,
    currentExpiryDays: r.Expiration?.Days,
  }));
}

/** The effect of a bucket's rules in the synthesized template. */
function effectOfCfnRules(rules: readonly Record<string, any>[]): RuleEffect[] {
  for (const rule of rules) {
    // Anything else (transitions, filters, disabled rules) would need handling on both sides.
    expect(Object.keys(rule).filter((k) => !['Id', 'Status', 'AbortIncompleteMultipartUpload', 'NoncurrentVersionExpiration', 'ExpiredObjectDeleteMarker', 'ExpirationInDays'].includes(k))).toEqual([]);
    expect(rule.Status).toBe('Enabled');
  }
  return rules.map((r) => ({
    id: r.Id,
    abortDays: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    noncurrentDays: r.NoncurrentVersionExpiration?.NoncurrentDays,
    expiredDeleteMarker: r.ExpiredObjectDeleteMarker,
    currentExpiryDays: r.ExpirationInDays,
  }));
}

test.each([StorageLayout.SEPARATE, StorageLayout.SINGLE])('lifecycle rules equal the CDK construct\'s, bucket by bucket (%s layout)', (layout) => {
  const stack = unitTestStack();
  const storage = new ConvexStorage(stack, 'Storage', { layout });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  // The construct's buckets by logical ID, each with the kinds it holds (from its environment).
  const kindsByBucket = new Map<string, StorageKindSpec[]>();
  for (const kind of STORAGE_KINDS) {
    const ref = (stack.resolve(storage.backendEnvironment[kind.envVar]) as { Ref: string }).Ref;
    kindsByBucket.set(ref, [...(kindsByBucket.get(ref) ?? []), kind]);
  }
  expect(kindsByBucket.size).toBe(layout === StorageLayout.SINGLE ? 1 : STORAGE_KINDS.length);
  for (const [logicalId, kinds] of kindsByBucket) {
    const cfnRules = resources[logicalId].Properties.LifecycleConfiguration.Rules as Record<string, any>[];
    expect([kinds.map((k) => k.kind), effectOfSdkRules(lifecycleRulesFor(kinds))]).toEqual([kinds.map((k) => k.kind), effectOfCfnRules(cfnRules)]);
  }
});

describe('a provider that rejects some lifecycle fields (like R2 and noncurrent versions)', () => {
  /**
   * A lifecycle API in front of s3rver (which has none): stores what it accepts, and answers
   * 400 InvalidArgument to a configuration containing any of `rejected`.
   */
  async function lifecycleProvider(rejected: readonly string[]) {
    const stored = new Map<string, string>();
    let puts = 0;
    const proxy = await s3.withFilter((req, res) => {
      const { bucket, key, query } = requestTarget(req);
      if (key !== '' || !query.has('lifecycle')) {
        return false;
      }
      if (req.method === 'GET') {
        const xml = stored.get(bucket);
        if (xml === undefined) {
          return s3Error(res, 404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist');
        }
        res.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
        return true;
      }
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        puts += 1;
        const field = rejected.find((name) => body.includes(`<${name}>`));
        if (field) {
          s3Error(res, 400, 'InvalidArgument', `${field} is not supported`);
        } else {
          stored.set(bucket, body);
          res.writeHead(200).end();
        }
      });
      return true;
    });
    return { proxy, stored, puts: () => puts };
  }

  function envFor(name: string, endpoint: string, prefix: string): string {
    const lines = [
      'AWS_REGION=auto',
      `S3_ENDPOINT_URL=${endpoint}`,
      'AWS_S3_FORCE_PATH_STYLE=true',
      `AWS_ACCESS_KEY_ID=${S3RVER_KEY.id}`,
      `AWS_SECRET_ACCESS_KEY=${S3RVER_KEY.secret}`,
      ...STORAGE_KINDS.map((k) => `${k.envVar}=${prefix}-${k.bucketSuffix}`),
    ];
    writeFileSync(join(tmp.dir, name), `${lines.join('\n')}\n`);
    return name;
  }

  test('leaves out noncurrent-version expiration, sets the rest, reports it unsupported; a second run changes nothing', async () => {
    const { proxy, stored, puts } = await lifecycleProvider(['NoncurrentVersionExpiration']);
    try {
      const file = envFor('r2.env', proxy.endpoint, 'r2a');
      const first = await provision('--env-file', file);
      expect(first.code).toBe(0);
      for (const bucket of first.report?.buckets ?? []) {
        expect(bucket.lifecycle).toMatchObject({ status: 'set', unsupported: ['noncurrent-version expiration'] });
        expect(bucket.lifecycle?.detail).toMatch(/without noncurrent-version expiration, which the provider rejects \(InvalidArgument \(HTTP 400\)/);
        const xml = stored.get(bucket.bucket) ?? '';
        expect(xml).not.toContain('NoncurrentVersionExpiration');
        expect(xml).toContain('<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>');
        expect(xml).toContain('<DaysAfterInitiation>7</DaysAfterInitiation>');
      }
      expect(stored.get('r2a-exports')).toContain('<Days>45</Days>');
      expect(stored.get('r2a-files')).not.toContain('<Days>');

      const human = await cli(['provision', '--env-file', file], { cwd: tmp.dir });
      expect(human.stderr).toMatch(/not supported by this provider: noncurrent-version expiration/);
      expect(human.stdout).toMatch(/Result: OK: 5 buckets ready\. Some features are not supported by this provider/);

      const putsBefore = puts();
      const again = await provision('--env-file', file);
      expect(again.code).toBe(0);
      expect(again.report?.buckets.map((b) => b.lifecycle?.status)).toEqual(Array(5).fill('unchanged'));
      expect(again.report?.buckets.every((b) => b.lifecycle?.unsupported?.[0] === 'noncurrent-version expiration')).toBe(true);
      // One rejected attempt with the full rules per bucket, and no write.
      expect(puts() - putsBefore).toBe(5);
    } finally {
      await proxy.close();
    }
  });

  test('puts back what the provider accepts: only the rejected part is left out', async () => {
    const { proxy, stored } = await lifecycleProvider(['ExpiredObjectDeleteMarker']);
    try {
      const run = await provision('--env-file', envFor('markers.env', proxy.endpoint, 'r2b'));
      expect(run.code).toBe(0);
      expect(run.report?.buckets.map((b) => b.lifecycle?.unsupported)).toEqual(Array(5).fill(['expired delete marker removal']));
      expect(stored.get('r2b-modules')).toContain('<NoncurrentDays>30</NoncurrentDays>');
      expect(stored.get('r2b-modules')).not.toContain('ExpiredObjectDeleteMarker');
    } finally {
      await proxy.close();
    }
  });

  test('a rejection that leaving parts out does not cure is a failure', async () => {
    const { proxy } = await lifecycleProvider(['Status']);
    try {
      const run = await provision('--env-file', envFor('broken.env', proxy.endpoint, 'r2c'));
      expect(run.code).toBe(1);
      expect(run.report?.buckets[0].lifecycle).toMatchObject({ status: 'failed', detail: expect.stringMatching(/did not help/) });
    } finally {
      await proxy.close();
    }
  });
});
