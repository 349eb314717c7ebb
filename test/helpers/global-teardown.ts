/**
 * jest globalTeardown: stops the variant synthesis if it still runs, removes the run's temp
 * directory, and fails the run if a test left anything in it: every test removes what it creates.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_TMPDIR_ENV } from './global-setup';
import { VARIANTS_DIR_ENV } from './variants';

export default function globalTeardown(): void {
  const runDir = process.env[RUN_TMPDIR_ENV];
  const variantsDir = process.env[VARIANTS_DIR_ENV];
  if (!runDir || !variantsDir) return;
  const pidFile = join(variantsDir, 'synthesis.pid');
  if (existsSync(pidFile) && !existsSync(join(variantsDir, 'exited'))) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      // It ended between the two checks.
    }
  }
  // tsx-<uid>: tsx's own transpile cache (the variant synthesis and bin/app.ts run under tsx).
  const leftovers = readdirSync(runDir).filter((entry) => entry !== 'variants' && !/^tsx-\d+$/.test(entry));
  rmSync(runDir, { recursive: true, force: true });
  if (leftovers.length > 0) {
    throw new Error(`The tests left ${leftovers.length} entries in the temp directory (each test must remove what it creates): ${leftovers.sort().join(', ')}`);
  }
}
