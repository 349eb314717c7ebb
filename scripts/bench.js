#!/usr/bin/env node
// `npm run bench`: how long a newcomer waits. Prints, side by side in one run, the median time
// of `npx cdk synth` for the app as run from TypeScript (cdk.json) and for the same app
// precompiled to JavaScript, then the wall time of `npm test`. Targets: synth within 1.1x of
// the precompiled app, the whole test suite under 60 s on a 2-core machine.
//
// Usage: node scripts/bench.js [--runs N] [--skip-tests]
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const args = process.argv.slice(2);
const runsFlag = args.indexOf('--runs');
const RUNS = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 5;
const SKIP_TESTS = args.includes('--skip-tests');
const SYNTH_TARGET_RATIO = 1.1;
const TEST_TARGET_SECONDS = 60;

function timed(command, commandArgs) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return seconds;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function main() {
  console.log('Compiling the app to JavaScript (npm run build)...');
  timed('npm', ['run', 'build', '--silent']);

  const outdir = mkdtempSync(join(tmpdir(), 'bench-cdk-out-'));
  const variants = [
    { name: 'npx cdk synth (TypeScript app, cdk.json)', args: ['cdk', 'synth', '--quiet', '-o', join(outdir, 'ts')] },
    { name: 'npx cdk synth (precompiled JavaScript)', args: ['cdk', 'synth', '--quiet', '--app', 'node dist/bin/app.js', '-o', join(outdir, 'js')] },
  ];
  const samples = variants.map(() => []);
  // Interleave the variants so machine noise hits both alike.
  for (let run = 0; run < RUNS; run++) {
    variants.forEach((variant, i) => samples[i].push(timed('npx', variant.args)));
  }
  rmSync(outdir, { recursive: true, force: true });

  const [ts, js] = samples.map(median);
  const ratio = ts / js;
  console.log(`\nmedian of ${RUNS} runs each:`);
  console.log('| what | median (s) | runs (s) |');
  console.log('| --- | --- | --- |');
  variants.forEach((variant, i) => {
    console.log(`| ${variant.name} | ${median(samples[i]).toFixed(2)} | ${samples[i].map((s) => s.toFixed(2)).join(', ')} |`);
  });
  console.log(`\nsynth ratio TypeScript / JavaScript: ${ratio.toFixed(2)}x (target <= ${SYNTH_TARGET_RATIO}x): ${ratio <= SYNTH_TARGET_RATIO ? 'met' : 'MISSED'}`);

  if (!SKIP_TESTS) {
    console.log('\nRunning npm test...');
    const testSeconds = timed('npm', ['test', '--silent']);
    console.log(`npm test wall time: ${testSeconds.toFixed(1)} s (target < ${TEST_TARGET_SECONDS} s): ${testSeconds < TEST_TARGET_SECONDS ? 'met' : 'MISSED'}`);
  }
}

main();
