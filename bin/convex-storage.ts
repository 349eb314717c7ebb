#!/usr/bin/env node
/**
 * The `convex-storage` command: `env`, `verify` and `provision` for a self-hosted Convex
 * backend's S3 storage. All logic lives in lib/cli; this file only wires the process to it.
 */
import { runCli } from '../lib/cli/main';
import { processIo } from '../lib/cli/io';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`convex-storage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
