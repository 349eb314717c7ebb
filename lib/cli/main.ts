/**
 * The CLI's entry logic: picks the command, prints help, turns errors into exit codes.
 * Command modules (and with them the AWS SDK) are loaded only when their command runs, so
 * `--help` and usage errors start fast.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ADMIN_KEY_HELP, ENV_HELP, MAIN_HELP, PROVISION_HELP, VERIFY_HELP } from './help';
import { CliError, EXIT, type CliIo } from './io';

const PACKAGE_NAME = 'cdk-convex-storage';

type Runner = (argv: readonly string[], io: CliIo) => Promise<number>;

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading: `import()` of a relative
   path cannot be written extensionless in this CommonJS build, and a top-level import would load
   the AWS SDK for `--help`. */
const COMMANDS: Record<string, { help: string; load: () => Runner }> = {
  env: { help: ENV_HELP, load: () => (require('./env-command') as typeof import('./env-command')).runEnv },
  verify: { help: VERIFY_HELP, load: () => (require('./verify-command') as typeof import('./verify-command')).runVerify },
  provision: {
    help: PROVISION_HELP,
    load: () => (require('./provision-command') as typeof import('./provision-command')).runProvision,
  },
  'admin-key': {
    help: ADMIN_KEY_HELP,
    load: () => (require('./admin-key-command') as typeof import('./admin-key-command')).runAdminKey,
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The version of the package this CLI belongs to, from its package.json: the nearest one above
 * this module named cdk-convex-storage (lib/cli/ in the sources, dist/lib/cli/ when built).
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') {
        return manifest.version;
      }
    } catch {
      // No (readable) package.json here: look further up.
    }
    if (dirname(dir) === dir) {
      return 'unknown';
    }
  }
}

/**
 * Runs the CLI with `argv` (without the node and script paths).
 *
 * @returns the process exit code: 0 success, 1 failure, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.stdout(`convex-storage ${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (name === 'help' && rest.length > 0 && !rest[0].startsWith('-')) {
    // `convex-storage help env` is `convex-storage env --help`.
    const [topic, ...extra] = rest;
    const command = COMMANDS[topic];
    if (!command || extra.length > 0) {
      io.stderr(`${command ? `Unexpected '${extra[0]}' after help ${topic}` : `Unknown command '${topic}'`}. Commands: ${Object.keys(COMMANDS).join(', ')}. See: convex-storage --help\n`);
      return EXIT.usage;
    }
    io.stdout(command.help);
    return EXIT.ok;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(MAIN_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`Unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}. See: convex-storage --help\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.help);
    return EXIT.ok;
  }
  try {
    return await command.load()(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`convex-storage ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`convex-storage ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failure;
  }
}
