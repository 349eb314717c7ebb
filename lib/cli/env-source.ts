/**
 * Where `verify` and `provision` read the backend's settings from: a `.env` file (default) or,
 * with `--process-env`, this process's environment.
 *
 * The file is named with `--file` or its alias `--env-file`. Node 20 scans the whole command line
 * for `--env-file`, script arguments included, and exits 9 ("not found") before this code runs
 * when that file is missing; `--file` is not a Node option, so it always reaches us.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readDotEnv, type DotEnvProblem } from '../dotenv';
import { booleanFlag, stringFlag, type Flags } from './args';
import { CliError, UsageError, type CliIo } from './io';
import type { EnvValues } from './env-checks';

/** The options that choose the source, for a command's parseFlags. */
export const SOURCE_OPTIONS = {
  file: { type: 'string' },
  'env-file': { type: 'string' },
  'process-env': { type: 'boolean' },
} as const;

/**
 * Reads the backend environment named by {@link SOURCE_OPTIONS}.
 *
 * @throws UsageError when `--file` and `--env-file` name different files, or a file is given
 *   with `--process-env`.
 */
export function loadBackendEnvFromFlags(io: CliIo, flags: Flags): LoadedEnv {
  const file = stringFlag(flags, 'file');
  const envFile = stringFlag(flags, 'env-file');
  if (file !== undefined && envFile !== undefined && file !== envFile) {
    throw new UsageError(`--file and --env-file are the same option and name different files ('${file}', '${envFile}'): pass one.`);
  }
  const useProcessEnv = booleanFlag(flags, 'process-env');
  if (useProcessEnv && (file ?? envFile) !== undefined) {
    throw new UsageError('--process-env reads this process\'s environment instead of a file: do not combine it with --file.');
  }
  return loadBackendEnv(io, file ?? envFile, useProcessEnv);
}

/** The values and a description of where they came from. */
export interface LoadedEnv {
  readonly values: EnvValues;
  /** For messages: the file path, or "the process environment". */
  readonly source: string;
  /**
   * Lines of the file that its loader would not read as written, with their line numbers.
   *
   * @default - none (always none for the process environment)
   */
  readonly problems?: readonly DotEnvProblem[];
}

/**
 * Reads the backend environment.
 *
 * @throws CliError when the file cannot be read, naming `--file` and `--process-env`.
 */
export function loadBackendEnv(io: CliIo, envFile: string | undefined, useProcessEnv: boolean): LoadedEnv {
  if (useProcessEnv) {
    const values = new Map<string, string>();
    for (const [key, value] of Object.entries(io.env)) {
      if (value !== undefined) {
        values.set(key, value);
      }
    }
    return { values, source: 'the process environment' };
  }
  const path = resolve(io.cwd, envFile ?? '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT'
        ? `No file at ${path}. Pass --file PATH, or --process-env to check this process's environment.`
        : `Cannot read ${path} (${code ?? String(err)}).`,
    );
  }
  const { values, problems } = readDotEnv(text);
  return { values, source: path, problems };
}
