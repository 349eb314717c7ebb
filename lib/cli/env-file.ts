/**
 * Writing the backend's `.env` safely: the previous file is kept as a backup, the new one
 * replaces it atomically, and both are readable by their owner only (the file holds keys).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Owner read/write only. */
export const ENV_FILE_MODE = 0o600;

/** Reads a file, or returns undefined when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw err;
  }
}

/**
 * Writes `text` to `path` atomically with mode 0600: a temporary file in the same directory
 * (so the rename cannot cross file systems) is written, flushed and renamed over `path`.
 * Readers see the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx': fail rather than follow a planted file or symlink; the mode applies at creation.
  const fd = openSync(temp, 'wx', ENV_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** The backup path of an env file: `<path>.bak`. */
export function backupPathFor(path: string): string {
  return `${path}.bak`;
}

/**
 * Replaces the env file at `path` with `text`, first saving `previous` (the file's current
 * contents, if any) as `<path>.bak`. Both end up with mode 0600.
 *
 * @returns the backup's path, if one was written.
 */
export function replaceEnvFile(path: string, text: string, previous: string | undefined): string | undefined {
  let backup: string | undefined;
  if (previous !== undefined) {
    backup = backupPathFor(path);
    writeFileAtomic(backup, previous);
  }
  writeFileAtomic(path, text);
  return backup;
}
