/**
 * `convex-storage env`: sources (outputs file, CloudFormation + Secrets Manager, providers) and
 * the safe merge into an existing `.env`.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { outputKeyFor, secretArnOutputKeyFor } from '../../lib/backend-env';
import { parseDotEnv } from '../../lib/dotenv';
import { replaceEnvFile } from '../../lib/cli/env-file';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { cli, mockStackClients } from './helpers';

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

const { cfn, sm, tmp } = mockStackClients();

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
    // Dropping S3_ENDPOINT_URL points the backend at AWS instead of MinIO: refused without --force.
    const refused = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/S3_ENDPOINT_URL: 'http:\/\/minio:9000' -> \(removed: AWS S3\)/);
    expect(refused.stderr).toMatch(/check that --stack \/ --outputs-file name the stack this backend already uses/);
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json', '--force'], { cwd: tmp.dir });
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

  test('--outputs-file with an empty output: reported as empty, nothing written', async () => {
    const outputs = stackOutputs('role');
    outputs[outputKeyFor('S3_STORAGE_SEARCH_BUCKET')] = '';
    outputs[outputKeyFor('AWS_REGION')] = ' ';
    writeFileSync(join(tmp.dir, 'out.json'), JSON.stringify({ [STACK]: outputs }));
    const existing = "# mine\nINSTANCE_SECRET='abc'\n";
    writeFileSync(join(tmp.dir, '.env'), existing);
    const run = await cli(['env', '--outputs-file', 'out.json'], { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Refusing to write: stack '${STACK}' has the outputs ${outputKeyFor('AWS_REGION')}, ${outputKeyFor('S3_STORAGE_SEARCH_BUCKET')}, but they are empty, ` +
        'so AWS_REGION, S3_STORAGE_SEARCH_BUCKET would be empty and the backend would silently use local disk.',
    );
    expect(run.stderr).not.toMatch(/lacks the output/);
    expect(read('.env')).toBe(existing);
    expect(readdirSync(tmp.dir).sort()).toEqual(['.env', 'out.json']);
  });

  test('a stack name with a line break stays in the header comment: it cannot assign a variable', async () => {
    const stack = `${STACK}\nAWS_REGION=`;
    writeFileSync(join(tmp.dir, 'out.json'), JSON.stringify({ [stack]: stackOutputs('role') }));
    // AWS_REGION already in the file is rewritten in place, above the appended block and header.
    writeFileSync(join(tmp.dir, '.env'), "AWS_REGION='eu-central-1'\n");
    const run = await cli(['env', '--outputs-file', 'out.json'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    const text = read('.env');
    expect(parseDotEnv(text).get('AWS_REGION')).toBe('eu-central-1');
    expect(text.split('\n').filter((l) => /^\s*AWS_REGION/.test(l))).toEqual(["AWS_REGION='eu-central-1'"]);
    expect(text).toContain(`# Convex S3 storage, written by convex-storage env from stack ${STACK} AWS_REGION=\n`);
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
  // The file already names other buckets and region: changing them needs --force.
  const args = ['env', '--provider', 'minio', '--endpoint', 'http://minio:9000', '--bucket-prefix', 'new', '--force', '--out', 'backend.env'];
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
    // Atomic write: no temporary file remains next to it; the backup is timestamped.
    const files = readdirSync(tmp.dir).sort();
    expect(files).toEqual(['backend.env', expect.stringMatching(/^backend\.env\.bak-\d{8}T\d{6}Z$/)]);
    expect(run.stderr).toContain(`backup of the previous file: ${join(tmp.dir, files[1])} (mode 0600)`);
    expect(read(files[1])).toBe(existing);
    expect(mode('backend.env')).toBe(0o600);
    expect(mode(files[1])).toBe(0o600);
  });

  test('running twice writes nothing the second time, and keeps the one backup of the original', async () => {
    writeFileSync(join(tmp.dir, 'backend.env'), existing);
    await cli(args, { cwd: tmp.dir, env: keys });
    const first = read('backend.env');
    const before = statSync(join(tmp.dir, 'backend.env'));
    const again = await cli(args, { cwd: tmp.dir, env: keys });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/backend\.env unchanged: .*Nothing written, no backup made/);
    expect(again.stderr).not.toMatch(/Wrote|--force: changing/);
    expect(read('backend.env')).toBe(first);
    expect(statSync(join(tmp.dir, 'backend.env')).ino).toBe(before.ino);
    const backups = readdirSync(tmp.dir).filter((f) => f.startsWith('backend.env.bak'));
    expect(backups).toHaveLength(1);
    expect(read(backups[0])).toBe(existing);
  });

  test('each change keeps its own backup: the original survives later runs', async () => {
    writeFileSync(join(tmp.dir, 'backend.env'), existing);
    await cli(args, { cwd: tmp.dir, env: keys });
    const afterFirst = read('backend.env');
    const second = await cli([...args, '--files-bucket', 'other-files'], { cwd: tmp.dir, env: keys });
    expect(second.code).toBe(0);
    const backups = readdirSync(tmp.dir).filter((f) => f.startsWith('backend.env.bak')).sort();
    expect(backups).toHaveLength(2);
    expect(backups.map(read).sort()).toEqual([afterFirst, existing].sort());
    expect(backups.every((f) => mode(f) === 0o600)).toBe(true);
  });

  test('nothing is written when a bucket name is empty or keys are missing', async () => {
    writeFileSync(join(tmp.dir, 'backend.env'), existing);
    // An empty name is refused as a usage error before anything is planned (an empty stack
    // output is refused too: see "--outputs-file with an empty output").
    const emptyName = await cli([...args, '--files-bucket', ''], { cwd: tmp.dir, env: keys });
    expect(emptyName.code).toBe(2);
    expect(emptyName.stderr).toMatch(/--files-bucket '' is not a valid bucket name/);
    const noKeys = await cli(args, { cwd: tmp.dir, env: {} });
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(/Refusing to write .*needs access keys.*Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    expect(read('backend.env')).toBe(existing);
    expect(readdirSync(tmp.dir)).toEqual(['backend.env']);
  });

  test('the header comment names the latest source when values change', async () => {
    writeFileSync(join(tmp.dir, 'cdk-outputs.json'), JSON.stringify({ [STACK]: stackOutputs('role') }));
    expect((await cli(['env', '--outputs-file', 'cdk-outputs.json', '--out', 'backend.env'], { cwd: tmp.dir })).code).toBe(0);
    expect(read('backend.env')).toContain(`# Convex S3 storage, written by convex-storage env from stack ${STACK}\n`);
    const run = await cli([...args], { cwd: tmp.dir, env: keys });
    expect(run.code).toBe(0);
    const headers = read('backend.env').split('\n').filter((l) => l.startsWith('# Convex S3 storage'));
    expect(headers).toEqual(['# Convex S3 storage, written by convex-storage env from --provider minio']);
  });

  test('a target in a missing directory: plain error, nothing written', async () => {
    const run = await cli([...args.slice(0, -1), 'missing-dir/backend.env'], { cwd: tmp.dir, env: keys });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot write .*missing-dir\/backend.env \(ENOENT\)/);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});

describe('keeping the storage where the data is', () => {
  const keys = { AWS_ACCESS_KEY_ID: 'minioadmin', AWS_SECRET_ACCESS_KEY: 'minioadmin' };
  const minio = (endpoint: string, ...rest: string[]) => ['env', '--provider', 'minio', '--endpoint', endpoint, ...rest];

  test('refuses to change bucket names, endpoint or region before writing anything; --force does it', async () => {
    expect((await cli(minio('http://minio:9000', '--bucket-prefix', 'old'), { cwd: tmp.dir, env: keys })).code).toBe(0);
    const written = read('.env');
    const refused = await cli(minio('http://minio2:9000', '--bucket-prefix', 'new', '--region', 'eu-west-1'), { cwd: tmp.dir, env: keys });
    expect(refused.code).toBe(1);
    for (const [key, from, to] of [
      ['AWS_REGION', 'us-east-1', 'eu-west-1'],
      ['S3_ENDPOINT_URL', 'http://minio:9000', 'http://minio2:9000'],
      ...STORAGE_KINDS.map((k) => [k.envVar, `old-${k.bucketSuffix}`, `new-${k.bucketSuffix}`]),
    ]) {
      expect(refused.stderr).toContain(`  ${key}: '${from}' -> '${to}'\n`);
    }
    expect(refused.stderr).toMatch(/all data stored so far is stranded/);
    expect(refused.stderr).toMatch(/--force only if the backend has no data yet.*npx convex export --path backup\.zip.*npx convex import backup\.zip/);
    expect(read('.env')).toBe(written);
    expect(readdirSync(tmp.dir)).toEqual(['.env']);

    const forced = await cli(minio('http://minio2:9000', '--bucket-prefix', 'new', '--region', 'eu-west-1', '--force'), { cwd: tmp.dir, env: keys });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/warning: --force: changing where the backend's data is/);
    expect(parseDotEnv(read('.env')).get('S3_STORAGE_FILES_BUCKET')).toBe('new-files');
  });

  test('one changed bucket is enough to refuse; the same values pass', async () => {
    expect((await cli(minio('http://minio:9000', '--bucket-prefix', 'app'), { cwd: tmp.dir, env: keys })).code).toBe(0);
    const one = await cli(minio('http://minio:9000', '--bucket-prefix', 'app', '--search-bucket', 'elsewhere'), { cwd: tmp.dir, env: keys });
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/:\n {2}S3_STORAGE_SEARCH_BUCKET: 'app-search' -> 'elsewhere'\nThe backend/);
    // Naming the same bucket through a per-kind flag changes nothing.
    const same = await cli(minio('http://minio:9000', '--bucket-prefix', 'app', '--search-bucket', 'app-search'), { cwd: tmp.dir, env: keys });
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/unchanged/);
  });

  test('--force does not override a different INSTANCE_NAME', async () => {
    const outputs = { ...stackOutputs('role'), [outputKeyFor('INSTANCE_NAME')]: 'my-app' };
    writeFileSync(join(tmp.dir, 'cdk-outputs.json'), JSON.stringify({ [STACK]: outputs }));
    writeFileSync(join(tmp.dir, '.env'), "INSTANCE_NAME='convex-prod'\n");
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json', '--force'], { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Changing INSTANCE_NAME strands all data.*--force does not override this/);
    expect(read('.env')).toBe("INSTANCE_NAME='convex-prod'\n");
  });
});

describe('bucket flags', () => {
  const keys = { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
  const r2 = (...rest: string[]) => cli(['env', '--provider', 'r2', '--endpoint', 'https://acc.r2.cloudflarestorage.com', '--print', ...rest], { cwd: tmp.dir, env: keys });

  test('--bucket contradicts --bucket-prefix and per-kind flags', async () => {
    const both = await r2('--bucket-prefix', 'x', '--bucket', 'yyy');
    expect(both).toMatchObject({ code: 2, stdout: '' });
    expect(both.stderr).toMatch(/--bucket \(one bucket for all five kinds\) and --bucket-prefix \(one bucket per kind\) contradict each other/);
    const perKind = await r2('--bucket', 'yyy', '--files-bucket', 'zzz', '--search-bucket', 'www');
    expect(perKind).toMatchObject({ code: 2, stdout: '' });
    expect(perKind.stderr).toMatch(/--bucket puts all five kinds in one bucket; --files-bucket, --search-bucket would name another/);
  });

  test('a per-kind flag overrides its kind of --bucket-prefix', async () => {
    const run = await r2('--bucket-prefix', 'app', '--files-bucket', 'shared-files');
    expect(run.code).toBe(0);
    const env = parseDotEnv(run.stdout);
    expect(env.get('S3_STORAGE_FILES_BUCKET')).toBe('shared-files');
    expect(env.get('S3_STORAGE_MODULES_BUCKET')).toBe('app-modules');
  });

  test.each([
    [['--bucket-prefix', 'My_App'], /--bucket-prefix 'My_App' gives S3_STORAGE_EXPORTS_BUCKET the name 'My_App-exports', which is not a valid bucket name: it may contain only lowercase letters/],
    [['--bucket-prefix', 'a'.repeat(50)], /gives S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET the name 'a{50}-snapshot-imports'.*must be 3 to 63 characters long \(it is 67\)/],
    [['--bucket', 'xn--abc'], /--bucket 'xn--abc' is not a valid bucket name: it must not begin with the reserved prefix 'xn--'/],
    [['--bucket-prefix', 'app', '--files-bucket', '10.0.0.1'], /--files-bucket '10\.0\.0\.1' is not a valid bucket name: it must not be formatted as an IP address/],
    [['--bucket-prefix', 'app', '--modules-bucket', ''], /--modules-bucket '' is not a valid bucket name: it must be 3 to 63 characters long/],
  ])('bucket names break the S3 naming rules: %j', async (flags, message) => {
    const run = await r2(...flags);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });
});

describe('flag conflicts are found before any AWS call', () => {
  test.each([
    [['--print', '--out', 'x.env'], /--print writes to stdout; do not combine it with --out/],
    [['--show-secrets'], /--show-secrets applies to --print only/],
    [['--print', '--force'], /--force applies to writing a file/],
  ])('%j', async (flags, message) => {
    const run = await cli(['env', '--stack', STACK, '--region', 'eu-central-1', ...flags], { cwd: tmp.dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(cfn.calls()).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
  });
});

test('a secret whose key differs from the AwsAccessKeyId output: says the outputs are stale and which key is written', async () => {
  writeFileSync(join(tmp.dir, 'cdk-outputs.json'), JSON.stringify({ [STACK]: stackOutputs('user') }));
  sm.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLENEWKEY002', AWS_SECRET_ACCESS_KEY: 'new-secret' }),
  });
  const run = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
  expect(run.code).toBe(0);
  expect(run.stderr).not.toMatch(/rotation/);
  expect(run.stderr).toMatch(
    /holds key AKIAEXAMPLENEWKEY002, but the stack output AwsAccessKeyId says AKIAEXAMPLEUSERKEY01.*outputs are stale.*edited by hand\. Written: the secret's pair \(key AKIAEXAMPLENEWKEY002\)/,
  );
  expect(parseDotEnv(read('.env')).get('AWS_ACCESS_KEY_ID')).toBe('AKIAEXAMPLENEWKEY002');
});

describe('backups (replaceEnvFile)', () => {
  const now = new Date('2026-08-23T10:11:12.345Z');

  test('timestamped, never overwritten, not repeated for identical contents', () => {
    const path = join(tmp.dir, '.env');
    writeFileSync(path, 'A=1\n');
    expect(replaceEnvFile(path, 'A=2\n', 'A=1\n', now)).toEqual({ path: `${path}.bak-20260823T101112Z`, existing: false });
    // Same second, other contents: a second backup beside the first.
    expect(replaceEnvFile(path, 'A=3\n', 'A=2\n', now)).toEqual({ path: `${path}.bak-20260823T101112Z-2`, existing: false });
    // Contents some backup already holds: no new file.
    expect(replaceEnvFile(path, 'A=4\n', 'A=1\n', now)).toEqual({ path: `${path}.bak-20260823T101112Z`, existing: true });
    expect(readdirSync(tmp.dir).sort()).toEqual(['.env', '.env.bak-20260823T101112Z', '.env.bak-20260823T101112Z-2']);
    expect(read('.env.bak-20260823T101112Z')).toBe('A=1\n');
    expect(read('.env.bak-20260823T101112Z-2')).toBe('A=2\n');
    expect(read('.env')).toBe('A=4\n');
    expect(mode('.env.bak-20260823T101112Z-2')).toBe(0o600);
  });
});
