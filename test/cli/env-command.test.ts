/**
 * `convex-storage env`: sources (outputs file, CloudFormation + Secrets Manager, providers) and
 * the safe merge into an existing `.env`.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { outputKeyFor, secretArnOutputKeyFor } from '../../lib/backend-env';
import { parseDotEnv } from '../../lib/dotenv';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { cli, isolateAwsEnvWithTestKeys, tempDir } from './helpers';

const STACK = 'ConvexStorage-dev';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:convex-storage-dev-key-AbCdEf';
const bucketOf = (suffix: string) => `convexstorage-dev-${suffix}-1a2b3c`;

/** Stack outputs as the stack names them: keys derived with outputKeyFor, never typed out. */
function stackOutputs(mode: 'role' | 'user', kms = false): Record<string, string> {
  const outputs: Record<string, string> = { [outputKeyFor('AWS_REGION')]: 'eu-central-1', DotEnv: "AWS_REGION='eu-central-1'\n..." };
  for (const kind of STORAGE_KINDS) {
    outputs[outputKeyFor(kind.envVar)] = bucketOf(kind.bucketSuffix);
  }
  if (kms) {
    outputs[outputKeyFor('AWS_S3_DISABLE_SSE')] = 'true';
  }
  if (mode === 'user') {
    outputs[outputKeyFor('AWS_ACCESS_KEY_ID')] = 'AKIAEXAMPLEUSERKEY01';
    outputs[secretArnOutputKeyFor('AWS_SECRET_ACCESS_KEY')] = SECRET_ARN;
  }
  return outputs;
}

const cfn = mockClient(CloudFormationClient);
const sm = mockClient(SecretsManagerClient);
let tmp: ReturnType<typeof tempDir>;

beforeAll(isolateAwsEnvWithTestKeys);
beforeEach(() => {
  cfn.reset();
  sm.reset();
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());
afterAll(() => {
  cfn.restore();
  sm.restore();
});

const read = (name: string) => readFileSync(join(tmp.dir, name), 'utf8');
const mode = (name: string) => statSync(join(tmp.dir, name)).mode & 0o777;

describe('from the stack', () => {
  test('--stack: DescribeStacks + GetSecretValue produce the user-mode .env', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: Object.entries(stackOutputs('user', true)).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEUSERKEY01', AWS_SECRET_ACCESS_KEY: 'wJalr/EXAMPLE+secret' }),
    });
    const run = await cli(['env', '--stack', STACK, '--region', 'eu-central-1'], { cwd: tmp.dir });
    expect(run.stderr).toContain('Wrote');
    expect(run.code).toBe(0);
    expect(cfn.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: STACK }]);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: SECRET_ARN }]);
    const env = parseDotEnv(read('.env'));
    expect(Object.fromEntries(env)).toEqual({
      AWS_REGION: 'eu-central-1',
      ...Object.fromEntries(STORAGE_KINDS.map((k) => [k.envVar, bucketOf(k.bucketSuffix)])),
      AWS_S3_DISABLE_SSE: 'true',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEUSERKEY01',
      AWS_SECRET_ACCESS_KEY: 'wJalr/EXAMPLE+secret',
    });
    // A strict boolean is written bare, so docker's --env-file does not keep quotes.
    expect(read('.env')).toMatch(/^AWS_S3_DISABLE_SSE=true$/m);
    expect(mode('.env')).toBe(0o600);
  });

  test('--stack that does not exist: plain error naming --stack and --region', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }));
    const run = await cli(['env', '--stack', STACK, '--region', 'eu-central-1'], { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot read stack 'ConvexStorage-dev'.*does not exist.*Check --stack and --region/);
    expect(existsSync(join(tmp.dir, '.env'))).toBe(false);
  });

  test('--outputs-file in role mode: no keys, and stale keys and endpoint are removed', async () => {
    writeFileSync(join(tmp.dir, 'cdk-outputs.json'), JSON.stringify({ [STACK]: stackOutputs('role') }));
    writeFileSync(
      join(tmp.dir, '.env'),
      "# my backend\nINSTANCE_NAME='prod'\nAWS_ACCESS_KEY_ID='AKIAOLD'\nAWS_SECRET_ACCESS_KEY='old'\nS3_ENDPOINT_URL='http://minio:9000'\n",
    );
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    expect(cfn.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
    const text = read('.env');
    expect(text.startsWith("# my backend\nINSTANCE_NAME='prod'\n")).toBe(true);
    const env = parseDotEnv(text);
    expect(env.has('AWS_ACCESS_KEY_ID')).toBe(false);
    expect(env.has('S3_ENDPOINT_URL')).toBe(false);
    expect(env.get('S3_STORAGE_FILES_BUCKET')).toBe(bucketOf('files'));
    expect(run.stderr).toMatch(/removed: AWS_ACCESS_KEY_ID \(the backend uses an IAM role/);
  });

  test('--outputs-file without a required output: refuses and writes nothing', async () => {
    const outputs = stackOutputs('role');
    delete outputs[outputKeyFor('S3_STORAGE_SEARCH_BUCKET')];
    writeFileSync(join(tmp.dir, 'out.json'), JSON.stringify({ [STACK]: outputs, Other: {} }));
    const run = await cli(['env', '--outputs-file', 'out.json', '--stack', STACK], { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/lacks the output S3StorageSearchBucket/);
    expect(readdirSync(tmp.dir)).toEqual(['out.json']);
  });
});

describe('for a provider', () => {
  const r2Env = { AWS_ACCESS_KEY_ID: 'r2-key-id', AWS_SECRET_ACCESS_KEY: 'r2-secret' };

  test('r2 with a prefix: region auto, path style, names from the table; --print masks the secret', async () => {
    const run = await cli(
      ['env', '--provider', 'r2', '--endpoint', 'https://acc.r2.cloudflarestorage.com', '--bucket-prefix', 'myapp', '--print'],
      { cwd: tmp.dir, env: r2Env },
    );
    expect(run.code).toBe(0);
    const env = parseDotEnv(run.stdout);
    expect(env.get('AWS_REGION')).toBe('auto');
    expect(env.get('AWS_S3_FORCE_PATH_STYLE')).toBe('true');
    expect(env.get('S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET')).toBe('myapp-snapshot-imports');
    expect(env.get('AWS_SECRET_ACCESS_KEY')).toBe('********');
    expect(run.stdout).not.toContain('r2-secret');
    expect(readdirSync(tmp.dir)).toEqual([]);
    const shown = await cli(['env', '--provider', 'r2', '--endpoint', 'https://acc.r2.cloudflarestorage.com', '--bucket', 'one', '--print', '--show-secrets'], {
      cwd: tmp.dir,
      env: r2Env,
    });
    expect(parseDotEnv(shown.stdout).get('AWS_SECRET_ACCESS_KEY')).toBe('r2-secret');
  });

  test('minio disables SSE, spaces disables checksums (per the preset table)', async () => {
    const minio = await cli(['env', '--provider', 'minio', '--endpoint', 'http://minio:9000', '--bucket', 'convex', '--print'], { cwd: tmp.dir, env: r2Env });
    expect(parseDotEnv(minio.stdout).get('AWS_S3_DISABLE_SSE')).toBe('true');
    const spaces = await cli(['env', '--provider', 'spaces', '--region', 'nyc3', '--bucket', 'convex', '--print'], { cwd: tmp.dir, env: r2Env });
    expect(Object.fromEntries(parseDotEnv(spaces.stdout))).toMatchObject({
      S3_ENDPOINT_URL: 'https://nyc3.digitaloceanspaces.com',
      AWS_S3_DISABLE_CHECKSUMS: 'true',
    });
    expect(parseDotEnv(spaces.stdout).has('AWS_S3_FORCE_PATH_STYLE')).toBe(false);
  });

  test('usage errors name the missing flag and exit 2', async () => {
    const noEndpoint = await cli(['env', '--provider', 'minio', '--bucket', 'x', '--print'], { cwd: tmp.dir, env: r2Env });
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toMatch(/--endpoint is required for MinIO/);
    const noBuckets = await cli(['env', '--provider', 'aws', '--region', 'us-east-1', '--print'], { cwd: tmp.dir, env: r2Env });
    expect(noBuckets.code).toBe(2);
    expect(noBuckets.stderr).toMatch(/No bucket name for S3_STORAGE_EXPORTS_BUCKET: pass --exports-bucket NAME, --bucket-prefix/);
  });
});

describe('merging into an existing .env', () => {
  const existing = [
    '# Convex backend',
    "INSTANCE_NAME='convex-prod'",
    '',
    '# storage (old)',
    "S3_STORAGE_FILES_BUCKET='old-files'",
    'export AWS_REGION=us-west-2',
    "INSTANCE_SECRET='abc' # keep me",
    "S3_STORAGE_FILES_BUCKET='older-duplicate'",
    '',
  ].join('\n');
  const args = ['env', '--provider', 'minio', '--endpoint', 'http://minio:9000', '--bucket-prefix', 'new', '--out', 'backend.env'];
  const keys = { AWS_ACCESS_KEY_ID: 'minioadmin', AWS_SECRET_ACCESS_KEY: 'minioadmin' };

  test('keeps other lines and comments in place, replaces in place, appends, backs up, mode 0600', async () => {
    writeFileSync(join(tmp.dir, 'backend.env'), existing, { mode: 0o644 });
    const run = await cli(args, { cwd: tmp.dir, env: keys });
    expect(run.code).toBe(0);
    const lines = read('backend.env').split('\n');
    expect(lines.slice(0, 7)).toEqual([
      '# Convex backend',
      "INSTANCE_NAME='convex-prod'",
      '',
      '# storage (old)',
      "S3_STORAGE_FILES_BUCKET='new-files'",
      "export AWS_REGION='us-east-1'",
      "INSTANCE_SECRET='abc' # keep me",
    ]);
    // The later duplicate would have won in docker compose: it is gone.
    expect(lines.filter((l) => l.includes('S3_STORAGE_FILES_BUCKET'))).toHaveLength(1);
    expect(parseDotEnv(read('backend.env')).get('S3_STORAGE_EXPORTS_BUCKET')).toBe('new-exports');
    expect(read('backend.env.bak')).toBe(existing);
    expect(mode('backend.env')).toBe(0o600);
    expect(mode('backend.env.bak')).toBe(0o600);
    // Atomic write: no temporary file remains next to it.
    expect(readdirSync(tmp.dir).sort()).toEqual(['backend.env', 'backend.env.bak']);
  });

  test('running twice changes nothing the second time', async () => {
    writeFileSync(join(tmp.dir, 'backend.env'), existing);
    await cli(args, { cwd: tmp.dir, env: keys });
    const first = read('backend.env');
    await cli(args, { cwd: tmp.dir, env: keys });
    expect(read('backend.env')).toBe(first);
  });

  test('nothing is written when a required value would be empty or keys are missing', async () => {
    writeFileSync(join(tmp.dir, 'backend.env'), existing);
    const emptyName = await cli([...args, '--files-bucket', ''], { cwd: tmp.dir, env: keys });
    expect(emptyName.code).toBe(2);
    const noKeys = await cli(args, { cwd: tmp.dir, env: {} });
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(/Refusing to write .*needs access keys.*Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    expect(read('backend.env')).toBe(existing);
    expect(readdirSync(tmp.dir)).toEqual(['backend.env']);
  });

  test('a target in a missing directory: plain error, nothing written', async () => {
    const run = await cli([...args.slice(0, -1), 'missing-dir/backend.env'], { cwd: tmp.dir, env: keys });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot write .*missing-dir\/backend.env \(ENOENT\)/);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});
