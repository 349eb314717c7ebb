/**
 * The feature flags the library needs, and only those: the README's reuse section names each
 * flag the code reads, and the constructs pass every cdk-nag pack in an app with no other flag.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, cx_api as cxapi } from 'aws-cdk-lib';
import { ConvexBackend, ConvexStorage, StorageEncryption } from '../../lib';
import { nagFindings } from '../helpers/cdk-app';

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const REUSE = README.slice(README.indexOf('## Reuse the construct in your own stack'), README.indexOf('```ts', README.indexOf('## Reuse the construct in your own stack')));

/** Every flag the library's code checks with FeatureFlags.of(...).isEnabled(cxapi.X). */
function flagsTheLibraryReads(): string[] {
  const files = readdirSync(join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const names = files.flatMap((f) => [...readFileSync(join(ROOT, 'lib', f), 'utf8').matchAll(/isEnabled\(cxapi\.(\w+)\)/g)].map((m) => m[1]));
  return [...new Set(names)].map((name) => (cxapi as unknown as Record<string, string>)[name]);
}

test('the README\'s reuse section names, before its example, every feature flag the library reads', () => {
  const flags = flagsTheLibraryReads();
  expect(flags).toEqual(['@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy']);
  for (const flag of flags) {
    expect(REUSE).toContain(`"${flag}": true`);
  }
});

test.each([
  ['SSE-S3', StorageEncryption.S3_MANAGED],
  ['KMS', StorageEncryption.KMS],
])('with that flag alone, %s storage and the backend (two stacks) synthesize and pass every cdk-nag pack', (_name, encryption) => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-flags-'));
  const app = new App({ context: { [cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY]: true, 'aws:cdk:version-reporting': false }, outdir, builtinCloudFormationValidation: false });
  const storageStack = new Stack(app, 'Storage');
  const storage = new ConvexStorage(storageStack, 'Storage', { encryption });
  const computeStack = new Stack(app, 'Compute');
  new ConvexBackend(computeStack, 'Convex', { storage, cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com' });
  try {
    expect(() => app.synth()).not.toThrow();
    expect([...nagFindings(storageStack), ...nagFindings(computeStack)]).toEqual([]);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
