/**
 * Command-line parsing on top of `node:util` parseArgs: unknown flags and stray positionals
 * become {@link UsageError}s that name the command's `--help`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: strings for string options, booleans for boolean ones. */
export type Flags = Record<string, string | boolean | undefined>;

/**
 * Parses `argv` against `options`, which must include `help`.
 *
 * @throws UsageError naming the bad flag and the command's `--help`.
 */
export function parseFlags(command: string, argv: readonly string[], options: Options): Flags {
  const args = joinDashValues(command, argv, options);
  try {
    const { values } = parseArgs({ args, options, allowPositionals: false, strict: true });
    return values as Flags;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${message.replace(/\.$/, '')}. See: convex-storage ${command} --help`);
  }
}

/**
 * `--timeout -1`: parseArgs refuses a value that starts with a dash as "ambiguous" (it could be
 * an option). A negative number is a value, so it is joined to its flag (`--timeout=-1`) and the
 * flag's own check says what is wrong with it; any other dash argument after a string flag is a
 * usage error that says how to pass such a value.
 */
function joinDashValues(command: string, argv: readonly string[], options: Options): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const name = /^--([^=]+)$/.exec(arg)?.[1];
    const next = argv[i + 1];
    if (name === undefined || options[name]?.type !== 'string' || next === undefined || !next.startsWith('-') || next === '-') {
      args.push(arg);
    } else if (/^-(\d|\.\d)/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      throw new UsageError(
        `--${name} needs a value, but '${next}' after it is an option. ` +
          `A value that starts with '-' is written --${name}=${next}. See: convex-storage ${command} --help`,
      );
    }
  }
  return args;
}

/** A string flag's value, or undefined when absent. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean flag's value (false when absent). */
export function booleanFlag(flags: Flags, name: string): boolean {
  return flags[name] === true;
}

/**
 * Parses `--timeout` (seconds, may be fractional) into milliseconds.
 *
 * @throws UsageError when the value is not a positive number.
 */
export function timeoutFlag(flags: Flags, defaultSeconds: number): number {
  const raw = stringFlag(flags, 'timeout');
  if (raw === undefined) {
    return defaultSeconds * 1000;
  }
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, not '${raw}'`);
  }
  return Math.round(seconds * 1000);
}
