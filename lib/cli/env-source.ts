/**
 * Where `verify` and `provision` read the backend's settings from: a `.env` file (default) or,
 * with `--process-env`, this process's environment.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDotEnv } from '../dotenv';
import { CliError, type CliIo } from './io';
import type { EnvValues } from './env-checks';

/** The values and a description of where they came from. */
export interface LoadedEnv {
  readonly values: EnvValues;
  /** For messages: the file path, or "the process environment". */
  readonly source: string;
}

/**
 * Reads the backend environment.
 *
 * @throws CliError when the file cannot be read, naming `--env-file` and `--process-env`.
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
        ? `No file at ${path}. Pass --env-file PATH, or --process-env to check this process's environment.`
        : `Cannot read ${path} (${code ?? String(err)}).`,
    );
  }
  return { values: parseDotEnv(text), source: path };
}
