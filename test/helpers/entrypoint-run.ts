/**
 * Runs the backend container's entrypoint wrapper under `sh`, as the container does, around a
 * stand-in backend (test/helpers/backend-stand-in.js) that records what it gets.
 *
 * The wrapper runs in its own session without a controlling terminal (`detached`), like a
 * container's PID 1: job control (`set -m`) is not available there either.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRYPOINT_NAME } from '../../lib/ecs/entrypoint/backend-entrypoint';

/** The stand-in of the image's entrypoint: `run_backend.sh`, which execs the stand-in backend. */
export const STAND_IN_ENTRYPOINT: readonly string[] = ['/bin/sh', join(__dirname, 'run-backend-stand-in.sh')];

/** One line the stand-in recorded. */
export interface StandInEvent {
  readonly event: 'entrypoint' | 'start' | 'ready' | 'signal';
  readonly pid?: number;
  readonly argv?: string[];
  readonly env?: Record<string, string | null>;
  readonly cwd?: string;
  readonly signal?: string;
  /** The entrypoint's SigIgn mask (hex), as /proc/self/status shows it. */
  readonly sigIgn?: string;
}

/** How the wrapper ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface EntrypointRunOptions {
  /** The wrapper's `sh -c` script. */
  readonly script: string;
  /** Arguments after the image's entrypoint (the container's command). */
  readonly args?: readonly string[];
  /** Extra environment of the wrapper (PATH and the stand-in's settings are added). */
  readonly env?: Record<string, string>;
  /** Directories put before PATH (e.g. one with a fake `env`). */
  readonly pathPrefix?: readonly string[];
  /** Variables the stand-in records. */
  readonly recordEnv?: readonly string[];
  /** What the stand-in does on SIGINT (see backend-stand-in.js). */
  readonly onInt?: 'exit' | 'hold';
  /** Exit right after start. */
  readonly exitAtOnce?: boolean;
  /** The stand-in's exit code. */
  readonly exitCode?: number;
  /** The wrapper's working directory. */
  readonly cwd?: string;
  /**
   * The shell that runs the wrapper.
   *
   * @default /bin/sh (dash here, as in the image)
   */
  readonly shell?: string;
}

/** One run of the wrapper; call `cleanup()` when done (it kills what is left and removes files). */
export class EntrypointRun {
  public readonly directory: string;
  public readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly log: string;
  private output = '';

  constructor(options: EntrypointRunOptions) {
    this.directory = mkdtempSync(join(tmpdir(), 'cdk-convex-entrypoint-'));
    this.log = join(this.directory, 'stand-in.jsonl');
    writeFileSync(this.log, '');
    this.child = spawn(options.shell ?? '/bin/sh', ['-c', options.script, ENTRYPOINT_NAME, ...STAND_IN_ENTRYPOINT, ...(options.args ?? [])], {
      detached: true,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: [...(options.pathPrefix ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
        ...options.env,
        STAND_IN_LOG: this.log,
        STAND_IN_ENV: (options.recordEnv ?? []).join(','),
        STAND_IN_ON_INT: options.onInt ?? 'exit',
        STAND_IN_RUN: options.exitAtOnce ? 'exit' : '',
        STAND_IN_EXIT_CODE: String(options.exitCode ?? 0),
      },
    });
    this.child.stdout!.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
    this.child.stderr!.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The wrapper's PID. */
  public get pid(): number {
    return this.child.pid!;
  }

  /** What the wrapper and the stand-in wrote to stdout and stderr. */
  public get stderr(): string {
    return this.output;
  }

  /** Whether the wrapper has exited. */
  public get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the stand-in recorded so far. */
  public events(): StandInEvent[] {
    return readFileSync(this.log, 'utf8').split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as StandInEvent);
  }

  /** The first event that matches, waiting for it (and failing when the wrapper exits first). */
  public async waitFor(match: (event: StandInEvent) => boolean, what: string, timeoutMs = 10000): Promise<StandInEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events().find(match);
      if (found) return found;
      if (!this.running) throw new Error(`the wrapper exited before ${what}; output:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits until the stand-in backend has installed its handlers. */
  public async ready(): Promise<StandInEvent> {
    return this.waitFor((e) => e.event === 'ready', 'stand-in ready');
  }

  /** Sends a signal to the wrapper (not to the stand-in). */
  public signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** Lets a stand-in started with `onInt: 'hold'` exit. */
  public release(): void {
    writeFileSync(`${this.log}.release`, '');
  }

  /** Kills what is left of the run (its process group: wrapper and stand-in) and removes its files. */
  public async cleanup(): Promise<void> {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // nothing left
    }
    await this.exited;
    rmSync(this.directory, { recursive: true, force: true });
  }
}
