/**
 * The oldest aws-cdk-lib the package admits is said once in package.json, documented in the
 * README, and installed by CI, which runs the suite against it (.ci/run).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string>; devDependencies: Record<string, string> };
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CI = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');

test('the peer range starts at the oldest release the README names, which is older than the one developed against', () => {
  const range = PACKAGE.peerDependencies['aws-cdk-lib'];
  const oldest = /^\^(\d+\.\d+\.\d+)$/.exec(range)?.[1];
  expect(oldest).toBeDefined();
  const section = README.slice(README.indexOf('### Supported versions'), README.indexOf('\n## ', README.indexOf('### Supported versions')));
  expect(section).toContain(`**aws-cdk-lib ${oldest} or newer** (\`peerDependencies\`: \`${range}\`)`);
  const minor = (version: string) => Number(version.replace(/^\^/, '').split('.')[1]);
  expect(minor(oldest!)).toBeLessThan(minor(PACKAGE.devDependencies['aws-cdk-lib']));
});

test('CI installs exactly that release into a clean clone and runs the test suite against it', () => {
  const step = CI.slice(CI.indexOf('npm test'));
  expect(step).toContain("require('./package.json').peerDependencies['aws-cdk-lib']");
  expect(step).toContain('npm pkg set "devDependencies.aws-cdk-lib=$oldest"');
  expect(step).toContain('npx tsc -p tsconfig.build.json --noEmit');
  expect(step.trim().endsWith('npx jest --ci')).toBe(true);
});
