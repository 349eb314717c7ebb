import { readFileSync } from 'node:fs';
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

test('the README example is the example file that the tests compile and synthesize', () => {
  const example = readFileSync(join(ROOT, 'examples', 'storage-in-your-stack.ts'), 'utf8');
  const classBody = example.slice(example.indexOf('export class MyConvexStack'));
  expect(README).toContain(classBody.trim());
});
