/**
 * The `convex-storage` command: `env`, `verify` and `provision` for a self-hosted Convex
 * backend's S3 storage. All logic lives in lib/cli; this file only wires the process to it.
 */
import { runCli } from '../lib/cli/main';
import { processIo } from '../lib/cli/io';

// The AWS SDK prints an 8-line NodeVersionSupportWarning on Node 20 (end of life since April
// 2026) into the middle of every command's output. This package documents its supported Node
// versions itself (package.json `engines`, README); the SDK's documented switch turns the
// warning off (aws/aws-sdk-js-v3#7983). Only this process's: the library never sets it, and a
// value the user set wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runCli(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`convex-storage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
