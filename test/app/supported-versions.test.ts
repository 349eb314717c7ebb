/**
 * The oldest aws-cdk-lib the package admits is said once in package.json, documented in the
 * README, and installed by CI, which runs the suite against it (.ci/run).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CI = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');

test('the peer range starts at the oldest release the README names, and the installed release is in it', () => {
  const range = PACKAGE.peerDependencies['aws-cdk-lib'];
  const oldest = /^\^(\d+\.\d+\.\d+)$/.exec(range)?.[1];
  expect(oldest).toBeDefined();
  const section = README.slice(README.indexOf('### Supported versions'), README.indexOf('\n## ', README.indexOf('### Supported versions')));
  expect(section).toContain(`**aws-cdk-lib ${oldest} or newer** (\`peerDependencies\`: \`${range}\`)`);
  // CI runs this file against exactly that release too (see below), so the installed one is >=.
  const installed = (JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')) as { version: string }).version;
  const [major, minor] = installed.split('.').map(Number);
  expect(major).toBe(2);
  expect(minor).toBeGreaterThanOrEqual(Number(oldest!.split('.')[1]));
});

test('CI installs exactly that release into a clean clone and runs the test suite against it', () => {
  const step = CI.slice(CI.indexOf('npm test'));
  expect(step).toContain("require('./package.json').peerDependencies['aws-cdk-lib']");
  expect(step).toContain('npm pkg set "devDependencies.aws-cdk-lib=$oldest"');
  expect(step).toContain('npx tsc -p tsconfig.build.json --noEmit');
  expect(step.trim().endsWith('npx jest --ci')).toBe(true);
});
