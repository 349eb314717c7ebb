// Whether dist/ holds exactly the compiled lib/ and bin/ sources, each compiled after the last
// change of any source or build setting. Shared by `prepare` (which then skips the build) and
// the package test (which then reads dist/ instead of compiling a copy).
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const SOURCE_DIRS = ['lib', 'bin'];
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The TypeScript sources the build compiles (declaration files compile to nothing). */
function buildSources(root) {
  return SOURCE_DIRS.flatMap((dir) => filesUnder(join(root, dir))).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
}

/** True when every source has its .js in dist/, no other .js is there, and none is older than an input. */
function distIsCurrent(root) {
  const sources = buildSources(root);
  const compiled = SOURCE_DIRS.flatMap((dir) => filesUnder(join(root, 'dist', dir))).filter((f) => f.endsWith('.js'));
  const expected = sources.map((f) => relative(root, f).replace(/\.ts$/, '.js')).sort();
  const actual = compiled.map((f) => relative(join(root, 'dist'), f)).sort();
  if (expected.length === 0 || JSON.stringify(actual) !== JSON.stringify(expected)) return false;
  const inputs = [...sources, ...BUILD_INPUTS.map((f) => join(root, f)).filter((f) => existsSync(f))];
  const newestInput = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  return compiled.every((f) => statSync(f).mtimeMs >= newestInput);
}

module.exports = { distIsCurrent };
