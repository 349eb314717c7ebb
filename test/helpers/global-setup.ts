/**
 * jest globalSetup: gives the run a private temp directory (TMPDIR, inherited by the workers and
 * everything they start) and the shared directory of the synthesized variants in it. The
 * teardown (global-teardown.ts) fails the run if anything else is left there.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VARIANTS_DIR_ENV } from './variants';

export const RUN_TMPDIR_ENV = 'CONVEX_STORAGE_TEST_TMPDIR';

export default function globalSetup(): void {
  const runDir = mkdtempSync(join(tmpdir(), 'convex-storage-test-run-'));
  const variantsDir = join(runDir, 'variants');
  mkdirSync(variantsDir);
  process.env[RUN_TMPDIR_ENV] = runDir;
  process.env[VARIANTS_DIR_ENV] = variantsDir;
  // os.tmpdir() reads TMPDIR on each call, here and in every worker and child process.
  process.env.TMPDIR = runDir;
}
