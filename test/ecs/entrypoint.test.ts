/**
 * The entrypoint wrapper, run under `sh` (dash here, as in the image) around a stand-in backend
 * written in Node, which installs its own signal handlers as the Rust backend does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntrypointStep, entrypointCommand, entrypointScript, shellQuote } from '../../lib/ecs/entrypoint/backend-entrypoint';
import { DATABASE_CA_BUNDLE_VARIABLE, databaseCaBundleProblems, databaseCaFileStep } from '../../lib/ecs/entrypoint/database-ca-bundle';
import { EntrypointRun, EntrypointRunOptions } from '../helpers/entrypoint-run';

const SIGINT_BIT = 1n << 1n;
const TEST_CA_BUNDLE = readFileSync(join(__dirname, '..', 'fixtures', 'database-ca-bundle.pem'), 'utf8');

const runs: EntrypointRun[] = [];
function run(options: Partial<EntrypointRunOptions> = {}): EntrypointRun {
  const started = new EntrypointRun({ script: entrypointScript(), ...options });
  runs.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(runs.splice(0).map((r) => r.cleanup()));
});

describe('signals', () => {
  test('SIGTERM reaches the backend as SIGINT, and the stop ends when the backend exits, with its status', async () => {
    const wrapper = run({ onInt: 'hold', exitCode: 0 });
    await wrapper.ready();
    wrapper.signal('SIGTERM');
    await wrapper.waitFor((e) => e.event === 'signal', 'a signal at the stand-in');
    // The wrapper waits while the backend drains...
    await new Promise((r) => setTimeout(r, 200));
    expect(wrapper.running).toBe(true);
    // ...and ends as soon as it has exited.
    wrapper.release();
    expect(await wrapper.exited).toEqual({ code: 0, signal: null });
    expect(wrapper.events().filter((e) => e.event === 'signal').map((e) => e.signal)).toEqual(['SIGINT']);
    expect(wrapper.stderr).toContain('SIGTERM received, sending SIGINT to the backend');
  });

  test('SIGINT is passed as SIGINT', async () => {
    const wrapper = run({ exitCode: 0 });
    await wrapper.ready();
    wrapper.signal('SIGINT');
    expect(await wrapper.exited).toEqual({ code: 0, signal: null });
    expect(wrapper.events().filter((e) => e.event === 'signal').map((e) => e.signal)).toEqual(['SIGINT']);
  });

  test('SIGHUP, SIGUSR1, SIGUSR2 and SIGQUIT are passed unchanged, and the backend keeps running', async () => {
    const wrapper = run({ exitCode: 5 });
    await wrapper.ready();
    const sent: NodeJS.Signals[] = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT'];
    for (const [index, signal] of sent.entries()) {
      wrapper.signal(signal);
      await wrapper.waitFor(() => wrapper.events().filter((e) => e.event === 'signal').length === index + 1, `${signal} at the stand-in`);
    }
    expect(wrapper.running).toBe(true);
    wrapper.signal('SIGTERM');
    expect(await wrapper.exited).toEqual({ code: 5, signal: null });
    expect(wrapper.events().filter((e) => e.event === 'signal').map((e) => e.signal)).toEqual([...sent, 'SIGINT']);
  });

  test('the image entrypoint starts with SIGINT at its default, not ignored as a background job of sh would', async () => {
    const wrapper = run();
    await wrapper.ready();
    const mask = BigInt(`0x${(await wrapper.waitFor((e) => e.event === 'entrypoint', 'the entrypoint')).sigIgn}`);
    expect(mask & SIGINT_BIT).toBe(0n);
  });

  test('without GNU env the backend is still started, and still gets SIGINT from its own handler', async () => {
    // An `env` that knows no --default-signal (busybox, say): the inherited ignore stays, which
    // the backend's handler overrides.
    const bin = mkdtempSync(join(tmpdir(), 'cdk-convex-fake-env-'));
    try {
      writeFileSync(join(bin, 'env'), '#!/bin/sh\necho "env: unrecognized option" >&2\nexit 125\n');
      chmodSync(join(bin, 'env'), 0o755);
      const wrapper = run({ pathPrefix: [bin], exitCode: 0 });
      await wrapper.ready();
      const mask = BigInt(`0x${(await wrapper.waitFor((e) => e.event === 'entrypoint', 'the entrypoint')).sigIgn}`);
      expect(mask & SIGINT_BIT).toBe(SIGINT_BIT);
      wrapper.signal('SIGTERM');
      expect(await wrapper.exited).toEqual({ code: 0, signal: null });
      expect(wrapper.events().filter((e) => e.event === 'signal').map((e) => e.signal)).toEqual(['SIGINT']);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  test('a backend killed by a signal ends the wrapper with 128 + the signal number, as a shell reports it', async () => {
    const wrapper = run();
    const start = await wrapper.waitFor((e) => e.event === 'start', 'the start');
    process.kill(start.pid!, 'SIGKILL');
    expect(await wrapper.exited).toEqual({ code: 137, signal: null });
  });
});

// The image's /bin/sh is dash, as here; bash in POSIX mode must run the script the same way.
const BASH = ['/bin/bash', '/usr/bin/bash'].find((path) => existsSync(path));
(BASH ? describe : describe.skip)('under bash --posix too', () => {
  const shell = `${BASH}`;
  test('SIGTERM reaches the backend as SIGINT; other signals unchanged; the exit status is the backend\'s', async () => {
    const wrapper = run({ shell, env: { POSIXLY_CORRECT: '1' }, exitCode: 7 });
    await wrapper.ready();
    wrapper.signal('SIGHUP');
    await wrapper.waitFor((e) => e.event === 'signal', 'SIGHUP at the stand-in');
    wrapper.signal('SIGTERM');
    expect(await wrapper.exited).toEqual({ code: 7, signal: null });
    expect(wrapper.events().filter((e) => e.event === 'signal').map((e) => e.signal)).toEqual(['SIGHUP', 'SIGINT']);
  });
});

describe('arguments, exit status, working directory', () => {
  test('the container command reaches the image entrypoint word for word', async () => {
    const args = ['--flag', 'two words', 'it\'s', '"quoted"', '$HOME', '*', 'back\\slash', 'new\nline', ''];
    const wrapper = run({ args, exitAtOnce: true });
    await wrapper.exited;
    expect(wrapper.events().find((e) => e.event === 'start')!.argv).toEqual(args);
  });

  test.each([0, 3, 42])('the backend\'s exit status %i is the wrapper\'s', async (code) => {
    const wrapper = run({ exitAtOnce: true, exitCode: code });
    expect(await wrapper.exited).toEqual({ code, signal: null });
  });

  test('the image entrypoint runs in the container\'s working directory, even if a step changes it', async () => {
    const wrapper = run({ script: entrypointScript([{ description: 'wander off', script: 'cd /' }]), cwd: __dirname, exitAtOnce: true });
    await wrapper.exited;
    expect(wrapper.events().find((e) => e.event === 'start')!.cwd).toBe(__dirname);
  });

  test('SIGTERM before the backend starts ends the container at once', async () => {
    const wrapper = run({ script: entrypointScript([{ description: 'wait for a stop', script: 'touch "$STAND_IN_LOG.step"; while [ ! -e "$STAND_IN_LOG.go" ]; do sleep 0.02; done' }]) });
    const step = `${wrapper.directory}/stand-in.jsonl.step`;
    for (let i = 0; i < 250 && !existsSync(step); i++) await new Promise((r) => setTimeout(r, 20));
    wrapper.signal('SIGTERM');
    writeFileSync(`${wrapper.directory}/stand-in.jsonl.go`, '');
    expect(await wrapper.exited).toEqual({ code: 143, signal: null });
    expect(wrapper.events()).toEqual([]);
  });
});

describe('start-up steps', () => {
  test('run in order in the wrapper\'s shell: what they export reaches the backend, and each is logged', async () => {
    const steps: EntrypointStep[] = [
      { description: 'first', script: 'export STEP_VALUE=one' },
      { description: 'second, with \'quotes\'', script: 'STEP_VALUE="$STEP_VALUE two"\nexport STEP_OTHER="x y"' },
    ];
    const wrapper = run({ script: entrypointScript(steps), recordEnv: ['STEP_VALUE', 'STEP_OTHER'], exitAtOnce: true });
    expect(await wrapper.exited).toEqual({ code: 0, signal: null });
    expect(wrapper.events().find((e) => e.event === 'start')!.env).toEqual({ STEP_VALUE: 'one two', STEP_OTHER: 'x y' });
    expect(wrapper.stderr).toContain('convex-entrypoint: start-up step: first\nconvex-entrypoint: start-up step: second, with \'quotes\'\n');
  });

  test('a failing command stops the start with its status, before the backend starts, the log naming the step', async () => {
    const steps: EntrypointStep[] = [
      { description: 'fine', script: 'true' },
      { description: 'breaks', script: 'false\necho "not reached" >&2' },
      { description: 'never', script: 'echo "never reached" >&2' },
    ];
    const wrapper = run({ script: entrypointScript(steps) });
    expect(await wrapper.exited).toEqual({ code: 1, signal: null });
    expect(wrapper.events()).toEqual([]);
    expect(wrapper.stderr.trimEnd().split('\n').pop()).toBe('convex-entrypoint: start-up step: breaks');
  });

  test('the script is valid for sh -n with steps and without', () => {
    for (const script of [entrypointScript(), entrypointScript([databaseCaFileStep()])]) {
      expect(() => execFileSync('/bin/sh', ['-n', '-c', script])).not.toThrow();
    }
  });

  test('the container entryPoint runs the script with the image entrypoint as arguments', () => {
    expect(entrypointCommand()).toEqual(['/bin/sh', '-c', entrypointScript(), 'convex-entrypoint', '/convex/run_backend.sh']);
    expect(() => entrypointCommand([], ['A=b'])).toThrow(/without '='/);
  });

  test('shellQuote gives one word for any text', async () => {
    const text = 'a \'b\' "c" $d `e` \\f\ng';
    const wrapper = run({ script: entrypointScript([{ description: 'quote', script: `export QUOTED=${shellQuote(text)}` }]), recordEnv: ['QUOTED'], exitAtOnce: true });
    await wrapper.exited;
    expect(wrapper.events().find((e) => e.event === 'start')!.env).toEqual({ QUOTED: text });
  });
});

describe('database CA bundle', () => {
  test('the step writes the bundle to the file, points PG_CA_FILE and MYSQL_CA_FILE at it and hides the source variable', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'cdk-convex-ca-'));
    try {
      const file = join(directory, 'ca bundle.pem');
      const wrapper = run({
        script: entrypointScript([databaseCaFileStep(file)]),
        env: { [DATABASE_CA_BUNDLE_VARIABLE]: TEST_CA_BUNDLE.trimEnd() },
        recordEnv: ['PG_CA_FILE', 'MYSQL_CA_FILE', DATABASE_CA_BUNDLE_VARIABLE],
        exitAtOnce: true,
      });
      expect(await wrapper.exited).toEqual({ code: 0, signal: null });
      expect(wrapper.events().find((e) => e.event === 'start')!.env).toEqual({ PG_CA_FILE: file, MYSQL_CA_FILE: file, [DATABASE_CA_BUNDLE_VARIABLE]: null });
      const written = readFileSync(file, 'utf8');
      expect(written).toBe(TEST_CA_BUNDLE);
      expect(databaseCaBundleProblems('written', written)).toEqual([]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('without the bundle variable the start fails and says why', async () => {
    const wrapper = run({ script: entrypointScript([databaseCaFileStep('/nonexistent/ca.pem')]) });
    expect((await wrapper.exited).code).not.toBe(0);
    expect(wrapper.events()).toEqual([]);
    expect(wrapper.stderr).toContain(`${DATABASE_CA_BUNDLE_VARIABLE}: is empty`);
  });

  test.each([
    ['a valid bundle', TEST_CA_BUNDLE, []],
    ['text without PEM', 'not a certificate', [/holds no PEM certificate/]],
    ['a private key', `${TEST_CA_BUNDLE}-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n`, [/holds a private key/]],
    ['another PEM block', `${TEST_CA_BUNDLE}-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n`, [/PEM block 3 is a 'X509 CRL'/]],
    ['a damaged certificate', TEST_CA_BUNDLE.replace(/(-----BEGIN CERTIFICATE-----\n)[A-Za-z0-9+/]{10}/, '$1AAAAAAAAAA'), [/certificate 1 is not a valid X.509/]],
    ['too large a bundle', TEST_CA_BUNDLE.repeat(30), [/more than the 32768 that fit in an ECS task definition/]],
  ])('databaseCaBundleProblems: %s', (_, pem, expected) => {
    const problems = databaseCaBundleProblems('databaseCaBundle', pem);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(problems[i]).toMatch(pattern));
  });
});
