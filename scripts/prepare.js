#!/usr/bin/env node
// `prepare` (run by `npm ci`, `npm install`, `npm pack` and, for the package's own bin, by the
// first `npx convex-storage` in a checkout, which links this package into npx's cache and runs
// its `prepare` there): builds dist/ unless it is already current. Without the check, that first
// npx call recompiled the whole package (6-15 s) before the CLI could start.
// `npm run build` always rebuilds.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { distIsCurrent } = require('./dist-state');

const ROOT = join(__dirname, '..');
if (distIsCurrent(ROOT)) {
  console.log('dist/ is current with lib/ and bin/: not rebuilt (npm run build forces a build).');
} else {
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
}
