#!/usr/bin/env node
// The `convex-storage` executable (package.json `bin`): a committed launcher, mode 755 in git,
// for the compiled CLI in dist/. The build recreates dist/ and the files it writes have no run
// bit, so a `bin` pointing into dist/ stopped working after every build; this file is never
// rebuilt, so running the CLI does not depend on how the last build went.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'bin', 'convex-storage.js');
if (!existsSync(entry)) {
  process.stderr.write(`convex-storage: ${entry} is missing: the package is not built. Run npm run build in ${join(__dirname, '..')}.\n`);
  process.exitCode = 1;
} else {
  require(entry);
}
