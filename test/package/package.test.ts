/**
 * What `npm pack` ships: compiled JavaScript and type declarations that another CDK app can
 * import, the CLI, and nothing of the app or the tests.
 *
 * `npm ci` compiles the package (the `prepare` script); when that `dist/` is up to date with
 * every source, the tests read it, else they compile a fresh copy into a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { unitTestApp } from '../helpers/cdk-app';

const ROOT = join(__dirname, '..', '..');
const SOURCE_DIRS = ['lib', 'bin'];
let packageDir: string;
let packedFiles: string[];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Whether `dist/` holds exactly the compiled sources, each compiled after its last change. */
function distIsCurrent(): boolean {
  const sources = SOURCE_DIRS.flatMap((dir) => filesUnder(join(ROOT, dir))).filter((f) => f.endsWith('.ts'));
  const compiled = SOURCE_DIRS.flatMap((dir) => filesUnder(join(ROOT, 'dist', dir))).filter((f) => f.endsWith('.js'));
  const expected = sources.map((f) => relative(ROOT, f).replace(/\.ts$/, '.js')).sort();
  if (JSON.stringify(compiled.map((f) => relative(join(ROOT, 'dist'), f)).sort()) !== JSON.stringify(expected)) return false;
  const configs = ['package.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => join(ROOT, f));
  const newestInput = Math.max(...[...sources, ...configs].map((f) => statSync(f).mtimeMs));
  return compiled.every((f) => statSync(f).mtimeMs >= newestInput);
}

beforeAll(() => {
  packageDir = mkdtempSync(join(tmpdir(), 'cdk-convex-storage-pack-'));
  const dist = join(packageDir, 'dist');
  if (distIsCurrent()) {
    cpSync(join(ROOT, 'dist'), dist, { recursive: true });
  } else {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'pipe' });
  }
  copyFileSync(join(ROOT, 'package.json'), join(packageDir, 'package.json'));
  copyFileSync(join(ROOT, 'README.md'), join(packageDir, 'README.md'));
  // What a consumer's install provides: its own aws-cdk-lib and constructs (peer dependencies).
  symlinkSync(join(ROOT, 'node_modules'), join(packageDir, 'node_modules'), 'dir');
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageDir, encoding: 'utf8' }));
  packedFiles = pack.files.map((f: { path: string }) => f.path);
}, 120_000);

afterAll(() => {
  rmSync(packageDir, { recursive: true, force: true });
});

test('ships the compiled library with type declarations, the CLI, and the README', () => {
  expect(packedFiles).toEqual(expect.arrayContaining([
    'dist/lib/index.js', 'dist/lib/index.d.ts',
    'dist/lib/storage/convex-storage.js', 'dist/lib/storage/convex-storage.d.ts',
    'dist/bin/convex-storage.js', 'README.md', 'package.json',
  ]));
  const main = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const entry of [main.main, main.types, main.bin['convex-storage']]) {
    expect(packedFiles).toContain(entry);
  }
});

test('ships nothing of the deployable app (which needs the dev-only cdk-nag) or the tests', () => {
  expect(packedFiles.filter((f) => /^dist\/lib\/app\/|^dist\/bin\/app\.|^test\/|\.test\.|^examples\//.test(f))).toEqual([]);
});

test('the compiled package is importable by another CDK app and synthesizes the storage', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require(join(packageDir, 'dist', 'lib', 'index.js'));
  const stack = new Stack(unitTestApp(), 'Consumer');
  const storage = new pkg.ConvexStorage(stack, 'Storage', { encryption: pkg.StorageEncryption.KMS });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::S3::Bucket', 6);
  expect(Object.keys(storage.backendEnvironment)).toEqual(expect.arrayContaining(pkg.REQUIRED_S3_VARS));
  expect(readFileSync(join(packageDir, 'dist', 'lib', 'storage', 'convex-storage.d.ts'), 'utf8')).toContain('export declare class ConvexStorage');
});

test('the packaged CLI starts without aws-cdk-lib', () => {
  const cli = join(packageDir, 'dist', 'bin', 'convex-storage.js');
  expect(existsSync(cli)).toBe(true);
  // A preload that fails the process if anything of aws-cdk-lib was loaded by the time it exits.
  const guard = join(packageDir, 'no-cdk-guard.js');
  writeFileSync(guard, "process.on('exit', () => { if (Object.keys(require.cache).some((m) => m.includes('/aws-cdk-lib/'))) { process.exitCode = 3; } });\n");
  const help = execFileSync(process.execPath, ['--require', guard, cli, '--help'], { encoding: 'utf8' });
  expect(help).toContain('convex-storage');
});

test('the packaged CLI issues an admin key with its runtime dependencies, without aws-cdk-lib', () => {
  const cli = join(packageDir, 'dist', 'bin', 'convex-storage.js');
  const guard = join(packageDir, 'no-cdk-guard-admin-key.js');
  writeFileSync(guard, "process.on('exit', () => { if (Object.keys(require.cache).some((m) => m.includes('/aws-cdk-lib/'))) { process.exitCode = 3; } });\n");
  const secret = 'ab'.repeat(32);
  const key = execFileSync(process.execPath, ['--require', guard, cli, 'admin-key', '--process-env'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, INSTANCE_NAME: 'packaged', INSTANCE_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require(join(packageDir, 'dist', 'lib', 'index.js'));
  expect(pkg.verifyAdminKey(key, { instanceName: 'packaged', instanceSecret: secret })).toMatchObject({ memberId: 0, readOnly: false });
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  expect(Object.keys(manifest.dependencies)).toContain('@noble/ciphers');
});
