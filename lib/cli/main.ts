/**
 * The CLI's entry logic: picks the command, prints help, turns errors into exit codes.
 * Command modules (and with them the AWS SDK) are loaded only when their command runs, so
 * `--help` and usage errors start fast.
 */
import { ADMIN_KEY_HELP, ENV_HELP, MAIN_HELP, PROVISION_HELP, VERIFY_HELP } from './help';
import { CliError, EXIT, type CliIo } from './io';

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
 * Runs the CLI with `argv` (without the node and script paths).
 *
 * @returns the process exit code: 0 success, 1 failure, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
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
