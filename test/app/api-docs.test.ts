/**
 * API.md, the API reference generated from the TSDoc of lib/index.ts, is current, and the README
 * names the constructs to start from. Regenerate with `npm run docs` (scripts/api-docs.js).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as library from '../../lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, also run as `npm run docs`
const docs = require('../../scripts/api-docs.js') as {
  checkReference: () => { current: boolean; generated: boolean };
  documentedFiles: () => string[];
  REGENERATE: string;
};

const ROOT = join(__dirname, '..', '..');
const API = readFileSync(join(ROOT, 'API.md'), 'utf8');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The constructs the README's "Start here" list names, in its order. */
const STARTING_CONSTRUCTS = ['ConvexStorage', 'ConvexBackendTaskDefinition', 'ConvexStorageStack'];

test('API.md is current with the TSDoc of lib/index.ts and what it exports', () => {
  // Cheap when API.md's recorded input fingerprint matches; otherwise TypeDoc runs (~8 s of CPU).
  const { current } = docs.checkReference();
  if (!current) {
    throw new Error(`API.md is out of date with lib/index.ts and what it exports: run \`${docs.REGENERATE}\` and commit API.md.`);
  }
});

test('the fingerprint covers every file lib/index.ts reaches, and nothing of the CLI or the app', () => {
  const files = docs.documentedFiles();
  expect(files).toEqual(expect.arrayContaining(['lib/index.ts', 'lib/storage/convex-storage.ts', 'lib/storage/convex-storage-props.ts']));
  expect(files.filter((f) => /^lib\/(cli|app)\//.test(f) || !f.startsWith('lib/'))).toEqual([]);
});

test('the README names the constructs to start from; each is exported and documented in API.md', () => {
  const section = README.slice(README.indexOf('## API reference'));
  expect(section.length).toBeLessThan(README.length);
  for (const name of STARTING_CONSTRUCTS) {
    expect(section).toContain(`\`${name}\``);
    expect(typeof (library as Record<string, unknown>)[name]).toBe('function');
    expect(API).toMatch(new RegExp(`^### ${name}$`, 'm'));
  }
  expect(section).toContain('[API.md](API.md)');
  expect(section).toContain('npm run docs');
});
