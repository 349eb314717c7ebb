/**
 * Writing the backend's `.env` safely: the previous file is kept as a timestamped backup that is
 * never overwritten, the new one replaces it atomically, and both are readable by their owner
 * only (the file holds keys). A `.env` that is a symbolic link (one file shared by several
 * checkouts or compose projects) is written through: the link stays, its target gets the new
 * contents, and the backup goes beside the target.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Links followed before giving up, as the kernel does (ELOOP). */
const MAX_LINK_HOPS = 40;

/**
 * The file a write to `path` must land in: `path` itself, or, when it is a symbolic link, the
 * end of its chain of links (which need not exist yet: a dangling link is written through too).
 * Renaming a new file over the link itself would replace the link with a regular file and leave
 * its target, the file everyone else reads, unchanged.
 *
 * @throws an ELOOP error when the links form a loop.
 */
export function resolveLinkTarget(path: string): string {
  let current = resolve(path);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    let target: string;
    try {
      target = readlinkSync(current);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EINVAL: not a link; ENOENT: nothing there yet.
      if (code === 'EINVAL' || code === 'ENOENT') {
        return current;
      }
      throw err;
    }
    current = resolve(dirname(current), target);
  }
  throw Object.assign(new Error(`Too many levels of symbolic links at ${path}`), { code: 'ELOOP' });
}

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

/** `YYYYMMDDTHHMMSSZ` (UTC), the suffix of a backup's name. */
export function backupTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** The backup path of an env file written at `now`: `<path>.bak-<YYYYMMDDTHHMMSSZ>`. */
export function backupPathFor(path: string, now: Date): string {
  return `${path}.bak-${backupTimestamp(now)}`;
}

/** Existing backups of `path` (`<path>.bak-*`, and the `<path>.bak` of earlier versions). */
function existingBackups(path: string): string[] {
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return entries.filter((e) => e === `${name}.bak` || e.startsWith(`${name}.bak-`)).map((e) => join(dirname(path), e));
}

/**
 * Writes `text` to a new file at `path`, atomically and without ever replacing an existing file:
 * a temporary file is linked to `path` (link fails with EEXIST where rename would overwrite).
 */
function writeFileExclusive(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileAtomic(temp, text);
  try {
    linkSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Where the previous file was kept. */
export interface BackupResult {
  readonly path: string;
  /** True when an existing backup already held exactly the previous contents (none written). */
  readonly existing: boolean;
}

/**
 * Replaces the env file at `path` with `text`, first keeping `previous` (the file's current
 * contents, if any) as `<path>.bak-<YYYYMMDDTHHMMSSZ>`. A backup is never overwritten: when one
 * already holds exactly `previous`, no new one is written; two runs in the same second get
 * `-2`, `-3`... Both files end up with mode 0600. The caller writes nothing when `text` equals
 * `previous`. When `path` is a symbolic link, its target is replaced and backed up beside
 * itself ({@link resolveLinkTarget}); the link is left as it is.
 *
 * @returns the backup, if the file existed.
 */
export function replaceEnvFile(linkOrPath: string, text: string, previous: string | undefined, now: Date = new Date()): BackupResult | undefined {
  const path = resolveLinkTarget(linkOrPath);
  let backup: BackupResult | undefined;
  if (previous !== undefined) {
    const same = existingBackups(path).find((candidate) => readIfExists(candidate) === previous);
    if (same !== undefined) {
      backup = { path: same, existing: true };
    } else {
      const base = backupPathFor(path, now);
      for (let attempt = 1; backup === undefined; attempt++) {
        const candidate = attempt === 1 ? base : `${base}-${attempt}`;
        try {
          writeFileExclusive(candidate, previous);
          backup = { path: candidate, existing: false };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 100) {
            throw err;
          }
        }
      }
    }
  }
  writeFileAtomic(path, text);
  return backup;
}
