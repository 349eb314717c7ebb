/**
 * The CLI's edges a user meets first: --version, `help <command>`, option values that start
 * with a dash, --out at a folder or through a symbolic link, quoting-only differences, and
 * `env --print` refusing what writing refuses. All in-process, on temporary files.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_HELP, MAIN_HELP } from '../../lib/cli/help';
import { packageVersion } from '../../lib/cli/main';
import { cli, isolateAwsEnv, tempDir } from './helpers';

const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
const MINIO = ['env', '--provider', 'minio', '--endpoint', 'http://127.0.0.1:9000', '--bucket-prefix', 'myapp'];
const KEYS = { AWS_ACCESS_KEY_ID: 'minio-key-id', AWS_SECRET_ACCESS_KEY: 'minio-secret' };

let tmp: ReturnType<typeof tempDir>;
beforeAll(isolateAwsEnv);
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('the command line', () => {
  test('--version prints the package version', async () => {
    const run = await cli(['--version'], { cwd: tmp.dir });
    expect(run).toEqual({ code: 0, stdout: `convex-storage ${PACKAGE_VERSION}\n`, stderr: '' });
    // From the compiled layout too (dist/lib/cli/ is one level deeper than lib/cli/).
    expect(packageVersion(join(__dirname, '..', '..', 'dist', 'lib', 'cli'))).toBe(PACKAGE_VERSION);
  });

  test('help <command> prints that command\'s help; an unknown one is a usage error', async () => {
    expect(await cli(['help', 'env'], { cwd: tmp.dir })).toEqual({ code: 0, stdout: ENV_HELP, stderr: '' });
    expect(await cli(['help'], { cwd: tmp.dir })).toEqual({ code: 0, stdout: MAIN_HELP, stderr: '' });
    const unknown = await cli(['help', 'deploy'], { cwd: tmp.dir });
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^Unknown command 'deploy'\. Commands: env, verify, provision/) });
  });

  test('--timeout -1 is checked as a number, not refused as an "ambiguous" option', async () => {
    for (const args of [['--timeout', '-1'], ['--timeout=-1'], ['--timeout', '-0.5']]) {
      const run = await cli(['verify', '--file-only', ...args], { cwd: tmp.dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--timeout must be a positive number of seconds, not '-(1|0\.5)'/);
      expect(run.stderr).not.toMatch(/ambiguous/);
    }
    const option = await cli(['verify', '--file', '--json'], { cwd: tmp.dir });
    expect(option).toMatchObject({ code: 2, stderr: expect.stringMatching(/--file needs a value, but '--json' after it is an option\. A value that starts with '-' is written --file=--json/) });
  });
});

describe('env --out', () => {
  test('a folder: says it is a folder, writes nothing', async () => {
    mkdirSync(join(tmp.dir, 'config'));
    const run = await cli([...MINIO, '--out', 'config'], { cwd: tmp.dir, env: KEYS });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot read .*config \(EISDIR\): it is a directory\. --out names the file to write, e\.g\. --out .*config\/\.env\./);
    expect(run.stderr).not.toMatch(/permissions/);
    expect(readdirSync(join(tmp.dir, 'config'))).toEqual([]);
  });

  test('a missing folder: names the folder', async () => {
    const run = await cli([...MINIO, '--out', 'nowhere/.env'], { cwd: tmp.dir, env: KEYS });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot write .*nowhere\/\.env \(ENOENT\): its directory .*nowhere does not exist/);
  });

  test('a symbolic link is written through: the link stays, its target changes, the backup is beside the target', async () => {
    mkdirSync(join(tmp.dir, 'shared'));
    mkdirSync(join(tmp.dir, 'app'));
    const target = join(tmp.dir, 'shared', 'backend.env');
    writeFileSync(target, "# shared by two checkouts\nINSTANCE_SECRET='abc'\n");
    symlinkSync('../shared/backend.env', join(tmp.dir, 'app', '.env'));
    const run = await cli(MINIO, { cwd: join(tmp.dir, 'app'), env: KEYS });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`(a symbolic link: wrote its target ${target})`);
    expect(lstatSync(join(tmp.dir, 'app', '.env')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(tmp.dir, 'app', '.env'))).toBe('../shared/backend.env');
    const text = readFileSync(target, 'utf8');
    expect(text).toMatch(/^# shared by two checkouts\nINSTANCE_SECRET='abc'\n/);
    expect(text).toContain("S3_STORAGE_FILES_BUCKET='myapp-files'");
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(tmp.dir, 'app'))).toEqual(['.env']);
    const backups = readdirSync(join(tmp.dir, 'shared')).filter((f) => f.startsWith('backend.env.bak-'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(tmp.dir, 'shared', backups[0]), 'utf8')).toBe("# shared by two checkouts\nINSTANCE_SECRET='abc'\n");
    expect(run.stderr).toContain(`backup of the previous file: ${join(tmp.dir, 'shared', backups[0])}`);
  });

  test('a dangling link gets its target created; a loop of links is refused', async () => {
    symlinkSync('real.env', join(tmp.dir, '.env'));
    expect((await cli(MINIO, { cwd: tmp.dir, env: KEYS })).code).toBe(0);
    expect(lstatSync(join(tmp.dir, '.env')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(tmp.dir, 'real.env'), 'utf8')).toContain("AWS_REGION='us-east-1'");
    symlinkSync('b.env', join(tmp.dir, 'a.env'));
    symlinkSync('a.env', join(tmp.dir, 'b.env'));
    const loop = await cli([...MINIO, '--out', 'a.env'], { cwd: tmp.dir, env: KEYS });
    expect(loop).toMatchObject({ code: 1, stderr: expect.stringMatching(/\(ELOOP\): its symbolic links form a loop/) });
  });

  test('--force reports only values that change, not a line that is quoted differently', async () => {
    writeFileSync(join(tmp.dir, '.env'), 'AWS_REGION=us-east-1\nS3_STORAGE_FILES_BUCKET="old-files"\n');
    const run = await cli([...MINIO, '--force'], { cwd: tmp.dir, env: KEYS });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^ {2}updated: S3_STORAGE_FILES_BUCKET$/m);
    expect(run.stderr).not.toMatch(/AWS_REGION: /);
    // The unchanged line is kept as the user wrote it.
    expect(readFileSync(join(tmp.dir, '.env'), 'utf8')).toMatch(/^AWS_REGION=us-east-1\nS3_STORAGE_FILES_BUCKET='myapp-files'\n/);
  });
});

test('env --print without the keys a provider needs exits 1 like writing, and prints nothing', async () => {
  const printed = await cli([...MINIO, '--print'], { cwd: tmp.dir, env: {} });
  expect(printed).toMatchObject({ code: 1, stdout: '' });
  expect(printed.stderr).toMatch(/Refusing to print: --provider minio needs access keys and none are set.*Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  const written = await cli(MINIO, { cwd: tmp.dir, env: {} });
  expect(written).toMatchObject({ code: 1, stderr: expect.stringMatching(/Refusing to write .*needs access keys and none are set/) });
  expect((await cli([...MINIO, '--print'], { cwd: tmp.dir, env: KEYS })).code).toBe(0);
});

test('env keeps a line of the user\'s that the loader cannot read, and warns with its line number', async () => {
  writeFileSync(join(tmp.dir, '.env'), "# mine\nINSTANCE_SECRET='abc'\nno equals sign\nS3_STORAGE_FILES_BUCKET=\"unterminated\n");
  const run = await cli(MINIO, { cwd: tmp.dir, env: KEYS });
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/^warning: .*\.env line 3: 'no equals sign' is not a NAME=value assignment/m);
  // The unterminated value of one of env's own variables is rewritten, so no warning for it.
  expect(run.stderr).not.toMatch(/never closed/);
  expect(readFileSync(join(tmp.dir, '.env'), 'utf8')).toMatch(/^# mine\nINSTANCE_SECRET='abc'\nno equals sign\nS3_STORAGE_FILES_BUCKET='myapp-files'\n/);
});
