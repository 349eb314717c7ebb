/**
 * What `npm pack` ships: compiled JavaScript and type declarations that another CDK app can
 * import, the CLI, and nothing of the app or the tests.
 *
 * `npm ci` compiles the package (the `prepare` script); when that `dist/` is up to date with
 * every source, the tests read it, else they compile a fresh copy into a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { unitTestApp } from '../helpers/cdk-app';

const ROOT = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS shared with `prepare`, which runs before any build
const { distIsCurrent } = require('../../scripts/dist-state.js') as { distIsCurrent: (root: string) => boolean };
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BIN: string = PACKAGE.bin['convex-storage'];
let packageDir: string;
let packedFiles: string[];

beforeAll(() => {
  packageDir = mkdtempSync(join(tmpdir(), 'cdk-convex-storage-pack-'));
  const dist = join(packageDir, 'dist');
  if (distIsCurrent(ROOT)) {
    cpSync(join(ROOT, 'dist'), dist, { recursive: true });
  } else {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'pipe' });
  }
  copyFileSync(join(ROOT, 'package.json'), join(packageDir, 'package.json'));
  cpSync(join(ROOT, 'assets'), join(packageDir, 'assets'), { recursive: true });
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
    copyFileSync(join(ROOT, file), join(packageDir, file));
  }
  mkdirSync(join(packageDir, dirname(BIN)), { recursive: true });
  copyFileSync(join(ROOT, BIN), join(packageDir, BIN));
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
  for (const entry of [PACKAGE.main, PACKAGE.types, BIN]) {
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

test('the packaged CLI starts, through its bin, without aws-cdk-lib', () => {
  const cli = join(packageDir, BIN);
  expect(existsSync(cli)).toBe(true);
  // A preload that fails the process if anything of aws-cdk-lib was loaded by the time it exits.
  const guard = join(packageDir, 'no-cdk-guard.js');
  writeFileSync(guard, "process.on('exit', () => { if (Object.keys(require.cache).some((m) => m.includes('/aws-cdk-lib/'))) { process.exitCode = 3; } });\n");
  const help = execFileSync(process.execPath, ['--require', guard, cli, '--help'], { encoding: 'utf8' });
  expect(help).toContain('convex-storage');
});

test('the bin is a committed executable launcher, not a build output, so a rebuild cannot strip its run bit', () => {
  // `tsc` writes dist/ files without a run bit: a bin inside dist/ failed with "Permission
  // denied" after every `npm run build`, `npm pack` or `npm run bench`.
  expect(BIN.startsWith('dist/')).toBe(false);
  const [mode] = execFileSync('git', ['ls-files', '--stage', '--', BIN], { cwd: ROOT, encoding: 'utf8' }).split(' ');
  expect(mode).toBe('100755');
  expect(readFileSync(join(ROOT, BIN), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
});

test('the launcher names the fix when the package is not built', () => {
  const bare = mkdtempSync(join(tmpdir(), 'cdk-convex-storage-unbuilt-'));
  try {
    mkdirSync(join(bare, dirname(BIN)));
    copyFileSync(join(ROOT, BIN), join(bare, BIN));
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [join(bare, BIN), '--help'], { stdio: 'pipe', encoding: 'utf8' });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure).toMatchObject({ status: 1, stderr: expect.stringMatching(/is missing: the package is not built\. Run npm run build in /) });
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
});

test('prepare rebuilds only a dist/ that is missing, incomplete or older than a source or build setting', () => {
  // `prepare` also runs on the first `npx convex-storage` in a checkout: rebuilding a current
  // dist/ there made that call take 6-15 s.
  const root = mkdtempSync(join(tmpdir(), 'cdk-convex-storage-dist-state-'));
  try {
    const write = (path: string, seconds: number) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), '');
      utimesSync(join(root, path), seconds, seconds);
    };
    write('package.json', 100);
    write('lib/a.ts', 100);
    write('lib/types.d.ts', 100);
    write('bin/cli.ts', 100);
    expect(distIsCurrent(root)).toBe(false);
    write('dist/lib/a.js', 200);
    expect(distIsCurrent(root)).toBe(false);
    write('dist/bin/cli.js', 200);
    expect(distIsCurrent(root)).toBe(true);
    write('lib/a.ts', 300);
    expect(distIsCurrent(root)).toBe(false);
    write('dist/lib/a.js', 400);
    write('dist/bin/cli.js', 400);
    expect(distIsCurrent(root)).toBe(true);
    write('tsconfig.build.json', 500);
    expect(distIsCurrent(root)).toBe(false);
    write('dist/lib/a.js', 600);
    write('dist/bin/cli.js', 600);
    write('dist/lib/removed.js', 600);
    expect(distIsCurrent(root)).toBe(false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('every shipped source map carries the sources it maps to', () => {
  // The maps name lib/*.ts and bin/*.ts, which the package does not contain: without
  // sourcesContent a debugger or --enable-source-maps has nothing to show.
  const maps = packedFiles.filter((f) => f.endsWith('.js.map'));
  expect(maps.length).toBeGreaterThan(10);
  const missing = maps.flatMap((file) => {
    const map = JSON.parse(readFileSync(join(packageDir, file), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    return map.sources.filter((source, i) => {
      const shipped = packedFiles.includes(join(dirname(file), source).replace(/^\.\//, ''));
      return !shipped && typeof map.sourcesContent?.[i] !== 'string';
    }).map((source) => `${file} -> ${source}`);
  });
  expect(missing).toEqual([]);
});

test('the packaged CLI issues an admin key with its runtime dependencies, without aws-cdk-lib', () => {
  const cli = join(packageDir, BIN);
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
  expect(Object.keys(PACKAGE.dependencies)).toContain('@noble/ciphers');
});

test('ships the bundled backup function, which the compiled ConvexScheduledBackups finds', () => {
  expect(packedFiles).toContain('assets/backup-function/index.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require(join(packageDir, 'dist', 'lib', 'index.js'));
  expect(pkg.backupFunctionAssetDir()).toBe(join(packageDir, 'assets', 'backup-function'));
  const stack = new Stack(unitTestApp(), 'ConsumerBackups');
  const secret = new pkg.InstanceSecret(stack, 'Secret').secret;
  new pkg.ConvexScheduledBackups(stack, 'Backups', { apiUrl: 'https://api.example.com', instanceName: 'consumer', instanceSecret: secret });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'] });
});

test('ships the Apache-2.0 LICENSE that package.json names, a changelog, and the metadata registries show', () => {
  expect(packedFiles).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md']));
  expect(PACKAGE.license).toBe('Apache-2.0');
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  expect(license).toMatch(/^\s*Apache License\n\s*Version 2\.0, January 2004\n\s*http:\/\/www\.apache\.org\/licenses\/\n/);
  expect(license).toContain('END OF TERMS AND CONDITIONS');
  expect(PACKAGE.repository).toEqual({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/github\.com\/[^/]+\/cdk-convex-storage\.git$/) });
  expect(PACKAGE.keywords).toEqual(expect.arrayContaining(['aws-cdk', 'convex', 's3']));
  // Keep a Changelog: an Unreleased section on top, changes grouped under the standard headings.
  const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
  expect(changelog).toMatch(/^# Changelog\n/);
  const sections = [...changelog.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  expect(sections[0]).toBe('[Unreleased]');
  expect([...changelog.matchAll(/^### (.+)$/gm)].map((m) => m[1]).filter((h) => !['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'].includes(h))).toEqual([]);
});
