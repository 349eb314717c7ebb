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
  try {
    const { values } = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true });
    return values as Flags;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${message.replace(/\.$/, '')}. See: convex-storage ${command} --help`);
  }
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
