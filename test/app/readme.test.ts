import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTEXT_KEYS } from '../../lib/app/app-config';

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('the README opens with the install-and-synth command and the test command, which CI runs', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(README)![1].trim().split('\n');
  expect(firstBlock).toEqual(['npm ci && npx cdk synth', 'npm test']);
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  for (const command of firstBlock) {
    expect(ci.split('\n')).toContain(command);
  }
});

test.each(CONTEXT_KEYS.map((k) => [k.key, k.default]))('the README documents context key %s with its default', (key, defaultValue) => {
  const row = README.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
  expect(row).toBeDefined();
  if (!defaultValue.startsWith('(')) {
    expect(row).toContain(`| \`${defaultValue}\` |`);
  }
});

test('the README documents no context key the app does not read', () => {
  const section = README.slice(README.indexOf('## Context keys'), README.indexOf('\n## ', README.indexOf('## Context keys') + 1));
  const documented = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual(CONTEXT_KEYS.map((k) => k.key).sort());
});

test.each([
  ['storage-in-your-stack.ts', 'export class MyConvexStack'],
  ['grant-to-your-role.ts', 'export class MyBackendStack'],
  ['backend-on-your-cluster.ts', 'export class ConvexOnMyClusterStack'],
  ['service-on-your-cluster.ts', 'export class ConvexServiceStack'],
  ['postgres-on-your-cluster.ts', 'export class ConvexWithPostgresStack'],
])('the README shows examples/%s, which the tests compile and synthesize', (file, start) => {
  const example = readFileSync(join(ROOT, 'examples', file), 'utf8');
  const from = example.indexOf(start);
  // The README shows the class; helpers after it (test wiring) are left out.
  const end = example.indexOf('\n}\n', from) + 3;
  expect(from).toBeGreaterThanOrEqual(0);
  expect(README).toContain(example.slice(from, end).trim());
});

test('the README links no file that does not exist', () => {
  for (const [, target] of README.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)) {
    expect(existsSync(join(ROOT, target))).toBe(true);
  }
});
