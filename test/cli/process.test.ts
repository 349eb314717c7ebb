/**
 * The real executable, spawned: exit codes and --help. Few on purpose (each spawn costs ~0.3 s).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const entry = join(__dirname, '..', '..', 'bin', 'convex-storage.ts');
// An empty working directory: no .env there.
const cwd = mkdtempSync(join(tmpdir(), 'convex-storage-process-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const runWithEnv = async (extraEnv: NodeJS.ProcessEnv, ...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), entry, ...args], {
      cwd,
      env: { PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: 'true', ...extraEnv },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};
const run = (...args: string[]) => runWithEnv({}, ...args);

test('--help of each command exits 0 and shows its usage', async () => {
  const [main, env, verify, provision] = await Promise.all([run('--help'), run('env', '--help'), run('verify', '--help'), run('provision', '--help')]);
  expect(main).toMatchObject({ code: 0, stdout: expect.stringMatching(/Commands:\n {2}env/) });
  expect(env).toMatchObject({ code: 0, stdout: expect.stringMatching(/--snapshot-imports-bucket NAME +S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET/) });
  expect(verify).toMatchObject({ code: 0, stdout: expect.stringMatching(/--timeout SECONDS/) });
  expect(provision).toMatchObject({ code: 0, stdout: expect.stringMatching(/On AWS use `cdk deploy`/) });
});

test('exit codes: 2 for a bad command line, 1 for a failed check', async () => {
  const [unknown, badFlag, missingFile, missingNamed] = await Promise.all([
    run('deploy'),
    run('verify', '--nope'),
    // The default file (.env) is missing.
    run('verify'),
    // A missing path given to --env-file is caught by Node 20 itself, which also scans script
    // arguments (exit 9, before our code runs); --file always reaches the CLI.
    run('verify', '--file', 'missing.env'),
  ]);
  expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown command 'deploy'/) });
  expect(badFlag).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--nope'.*convex-storage verify --help/) });
  expect(missingFile).toMatchObject({ code: 1, stderr: expect.stringMatching(/No file at .*\.env\. Pass --file PATH, or --process-env/) });
  expect(missingNamed).toMatchObject({ code: 1, stderr: expect.stringMatching(/No file at .*missing\.env\./) });
});

test('--help and the env command\'s modules load no aws-cdk-lib', async () => {
  const script = [
    `const { runCli } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'cli', 'main.ts'))});`,
    `runCli(['env', '--help'], { stdout() {}, stderr() {}, env: {}, cwd: '.' }).then(() => {`,
    `  const afterHelp = Object.keys(require.cache).filter((p) => /node_modules[\\/](aws-cdk-lib|@aws-sdk)[\\/]/.test(p)).length;`,
    `  require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'cli', 'env-plan.ts'))});`,
    `  const cdk = Object.keys(require.cache).filter((p) => /node_modules[\\/]aws-cdk-lib[\\/]/.test(p)).length;`,
    `  console.log(JSON.stringify({ afterHelp, cdk }));`,
    `});`,
  ].join('\n');
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], { cwd });
  expect(JSON.parse(stdout)).toEqual({ afterHelp: 0, cdk: 0 });
});

test('the AWS SDK\'s NodeVersionSupportWarning stays out of the output (Node 20 is end of life but still runs the CLI)', async () => {
  // `env --stack` builds an SDK client, then fails fast: no credentials exist in this environment.
  const args = ['env', '--stack', 'ConvexStorage-dev', '--region', 'eu-west-1'];
  const [cli, optedIn] = await Promise.all([
    runWithEnv({}, ...args),
    // The SDK's own switch, set the other way by the user, shows what the CLI keeps out.
    runWithEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }, ...args),
  ]);
  expect(cli).toMatchObject({ code: 1, stderr: expect.stringMatching(/no AWS credentials/) });
  expect(cli.stderr).not.toMatch(/NodeVersionSupportWarning|Warning:/);
  const sdkWarnsHere = Number(process.versions.node.split('.')[0]) < 22;
  expect(/NodeVersionSupportWarning/.test(optedIn.stderr)).toBe(sdkWarnsHere);
});
