/**
 * `convex-storage verify` when the storage refuses the credentials because of where the request
 * comes from (the network restrictions of backendVpcEndpointIds, the app's VPC, and
 * backendSourceIps), against s3rver behind a loopback filter that answers as S3 does: 403
 * AccessDenied with IAM's documented message, naming the policy type that denied.
 */
import { writeFileSync } from 'node:fs';
import type * as http from 'node:http';
import { join } from 'node:path';
import { denialContext } from '../../lib/cli/diagnosis';
import type { VerifyReport } from '../../lib/cli/verify-command';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { S3RVER_KEY, cli, firstOf, isolateAwsEnv, requestTarget, s3Error, startS3, tempDir, type RequestFilter, type TestS3 } from './helpers';

const BUCKETS = STORAGE_KINDS.map((k) => `net-${k.bucketSuffix}`);
const PRINCIPAL = 'arn:aws:iam::111111111111:user/ConvexStorage-dev-BackendUser';

let s3: TestS3;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  isolateAwsEnv();
  s3 = await startS3(BUCKETS);
  tmp = tempDir();
});
afterAll(async () => {
  await s3.close();
  tmp.cleanup();
});

/** The IAM action S3 authorizes a path-style request as. */
function actionOf(req: http.IncomingMessage): string {
  const { key, query } = requestTarget(req);
  if (key === '') return 's3:ListBucket';
  if (req.method === 'DELETE') return query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject';
  if (req.method === 'GET' || req.method === 'HEAD') return 's3:GetObject';
  return 's3:PutObject';
}

/** S3's answer to a request an `<type>` policy denies ("explicit deny" or "no ... allows"). */
function denied(req: http.IncomingMessage, res: http.ServerResponse, how: 'explicit' | 'implicit', type: string): true {
  const { bucket, key } = requestTarget(req);
  const action = actionOf(req);
  const why = how === 'explicit' ? `with an explicit deny in a ${type} policy` : `because no ${type} policy allows the ${action} action`;
  return s3Error(res, 403, 'AccessDenied', `User: ${PRINCIPAL} is not authorized to perform: ${action} on resource: "arn:aws:s3:::${bucket}${key ? `/${key}` : ''}" ${why}`);
}

/** Every request denied by a policy of `type`, as from outside the allowed network. */
function denyAll(how: 'explicit' | 'implicit', type: string): RequestFilter {
  return (req, res) => denied(req, res, how, type);
}

function envFile(name: string, endpoint: string, overrides: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    S3_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_KEY.id,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_S3_DISABLE_CHECKSUMS: 'true',
    ...Object.fromEntries(STORAGE_KINDS.map((k, i) => [k.envVar, BUCKETS[i]])),
    ...overrides,
  };
  const path = join(tmp.dir, name);
  writeFileSync(path, `${Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
  return path;
}

async function verifyBehind(filter: RequestFilter, name: string, ...flags: string[]): Promise<{ code: number; stdout: string; report?: VerifyReport }> {
  const proxy = await s3.withFilter(filter);
  try {
    const run = await cli(['verify', '--env-file', envFile(name, proxy.endpoint), ...flags], { cwd: tmp.dir });
    return { code: run.code, stdout: run.stdout, report: flags.includes('--json') ? (JSON.parse(run.stdout) as VerifyReport) : undefined };
  } finally {
    await proxy.close();
  }
}

function failures(report: VerifyReport) {
  return report.variables.flatMap((v) => (v.result?.steps ?? []).filter((s) => s.status === 'failed').map((s) => ({ variable: v.variable, ...s })));
}

test('denialContext reads the policy type out of S3\'s documented messages, and nothing out of a bare "Access Denied"', () => {
  expect(denialContext('User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" with an explicit deny in a resource-based policy'))
    .toEqual({ explicit: true, policyType: 'resource-based' });
  expect(denialContext('... on resource: "arn:aws:s3:::b" with an explicit deny in an identity-based policy')).toEqual({ explicit: true, policyType: 'identity-based' });
  expect(denialContext('... because no VPC endpoint policy allows the s3:PutObject action')).toEqual({ explicit: false, policyType: 'vpc endpoint' });
  expect(denialContext('Access Denied')).toBeUndefined();
});

test('a bucket-policy deny of every request: the diagnosis names the VPC endpoint restriction, not a missing IAM action', async () => {
  const { code, report } = await verifyBehind(denyAll('explicit', 'resource-based'), 'outside-vpc.env', '--json');
  expect(code).toBe(1);
  const failed = failures(report!);
  expect(failed.map((f) => [f.variable, f.step, f.diagnosis?.code, f.diagnosis?.setting])).toEqual(
    STORAGE_KINDS.map((k) => [k.envVar, 'deleteCheck', 'network-restricted', 'aws:SourceVpce (backendVpcEndpointIds)']),
  );
  expect(failed[0].diagnosis?.message).toMatch(/bucket policy of 'net-exports' denies these credentials explicitly.*S3 gateway endpoint of the backend's VPC.*run verify where the backend runs/);
  expect(failed[0].diagnosis?.message).not.toMatch(/grant s3:/);
});

test('the human summary names the restriction for each bucket, with the setting to look at', async () => {
  const { code, stdout } = await verifyBehind(denyAll('explicit', 'resource-based'), 'outside-vpc-text.env');
  expect(code).toBe(1);
  expect(stdout.match(/that is the network restriction/g)).toHaveLength(5);
  expect(stdout).toMatch(/setting to change: aws:SourceVpce \(backendVpcEndpointIds\)/);
  expect(stdout).toMatch(/Result: FAILED \(5 buckets failed\)/);
});

test('an identity-policy deny of every request: the diagnosis names backendSourceIps', async () => {
  const { code, report } = await verifyBehind(denyAll('explicit', 'identity-based'), 'wrong-address.env', '--json');
  expect(code).toBe(1);
  const failed = failures(report!);
  expect(failed.map((f) => [f.step, f.diagnosis?.code, f.diagnosis?.setting])).toEqual(Array(5).fill(['deleteCheck', 'source-ip-restricted', 'backendSourceIps']));
  expect(failed[0].diagnosis?.message).toMatch(/source-address restriction \(backendSourceIps\).*Run verify from an address in backendSourceIps/);
});

test('a VPC endpoint policy that does not admit the bucket is named as such', async () => {
  const { report } = await verifyBehind(denyAll('implicit', 'VPC endpoint'), 'endpoint-policy.env', '--json');
  expect(failures(report!)[0].diagnosis).toMatchObject({ code: 'vpc-endpoint-policy', setting: 'VPC endpoint policy' });
});

test('least privilege still reads as least privilege: an implicit identity deny of DeleteObject outside exports passes', async () => {
  const exportsBucket = BUCKETS[STORAGE_KINDS.findIndex((k) => k.backendDeletes)];
  const noDelete: RequestFilter = (req, res) => {
    const { bucket, key, query } = requestTarget(req);
    return req.method === 'DELETE' && key !== '' && !query.has('uploadId') && bucket !== exportsBucket ? denied(req, res, 'implicit', 'identity-based') : false;
  };
  const { code, report } = await verifyBehind(firstOf(noDelete, s3.abortUploads), 'least.env', '--json');
  expect(failures(report!)).toEqual([]);
  expect(code).toBe(0);
});

test('a bucket-policy deny of uploads only (after the first request passed) points at the encryption header, not the network', async () => {
  const uploadsDenied: RequestFilter = (req, res) => (req.method === 'POST' && requestTarget(req).query.has('uploads') ? denied(req, res, 'explicit', 'resource-based') : false);
  const { report } = await verifyBehind(firstOf(uploadsDenied, s3.abortUploads), 'sse.env', '--json');
  const failed = failures(report!);
  expect(failed.map((f) => [f.step, f.diagnosis?.code, f.diagnosis?.setting])).toEqual(Array(5).fill(['createUpload', 'bucket-policy-denied', 'AWS_S3_DISABLE_SSE']));
  expect(failed[0].diagnosis?.message).toMatch(/not the network restriction.*AWS_S3_DISABLE_SSE=true/);
});
