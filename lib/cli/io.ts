/**
 * What a command needs from the outside world, passed in so tests can run commands in-process
 * with their own streams, environment and working directory.
 */

/** The process context of one CLI run. */
export interface CliIo {
  /** Results (the `.env` block of `--print`, the summary, `--json` output). */
  readonly stdout: (text: string) => void;
  /** Progress and diagnostics, so stdout stays machine-readable. */
  readonly stderr: (text: string) => void;
  /** The environment credentials and `--process-env` values are read from. */
  readonly env: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
}

/** The process's own streams, environment and working directory. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Exit codes, documented in `--help`. */
export const EXIT = {
  ok: 0,
  /** A check failed, or the command refused to act on an invalid configuration. */
  failure: 1,
  /** The command line itself is wrong. */
  usage: 2,
} as const;

/**
 * An error whose message is meant for the user as it is: it says what is wrong and which
 * setting or flag to change. Anything else that escapes a command is a bug or an unexpected
 * failure and is reported with its name.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A {@link CliError} about the command line (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}
