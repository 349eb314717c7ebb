/**
 * The backend container's entrypoint wrapper: a small POSIX `sh` script that runs start-up steps,
 * then the image's own entrypoint as its child, turning the SIGTERM that ECS stops a container
 * with into the SIGINT the backend drains on.
 *
 * Facts (upstream `self-hosted/docker-build/Dockerfile.backend` and `run_backend.sh`, and
 * `crates/local_backend/src/main.rs`): the image's `WORKDIR` is `/convex`, its `ENTRYPOINT` is
 * `["./run_backend.sh"]` and it has no `CMD`; `run_backend.sh` is bash, sources
 * `./read_credentials.sh` from the working directory and `exec`s `./convex-local-backend "$@" ...`,
 * so the backend replaces it (same process). The backend shuts down gracefully only on SIGINT
 * (`signal::ctrl_c()`) and has no SIGTERM handler; as PID 1 it ignores SIGTERM, so without this
 * wrapper every ECS stop waits for the whole stop timeout and ends in SIGKILL.
 *
 * No aws-cdk-lib here: the script is plain text that tests run under `sh`, and other code (the
 * database wiring, say) adds its own start-up steps.
 */

/** The image's working directory; `run_backend.sh` finds its helpers relative to it. */
export const BACKEND_IMAGE_WORKING_DIRECTORY = '/convex';

/**
 * The image's own entrypoint, by absolute path (the Dockerfile gives `./run_backend.sh`, relative
 * to the working directory). The wrapper runs it with the container's command as arguments.
 */
export const BACKEND_IMAGE_ENTRYPOINT: readonly string[] = [`${BACKEND_IMAGE_WORKING_DIRECTORY}/run_backend.sh`];

/** The signal ECS stops a container with (then SIGKILL after the stop timeout). */
export const ECS_STOP_SIGNAL = 'TERM';

/** The only signal the backend drains and exits on (upstream compose sets `stop_signal: SIGINT`). */
export const BACKEND_STOP_SIGNAL = 'INT';

/**
 * Signals the wrapper passes to the backend as they are. (TERM is passed as
 * {@link BACKEND_STOP_SIGNAL}; KILL and STOP cannot be caught.)
 */
export const FORWARDED_SIGNALS: readonly string[] = ['HUP', 'INT', 'QUIT', 'USR1', 'USR2', 'ALRM'];

/** The name the wrapper runs under (`$0`), seen in `ps` and at the start of its log lines. */
export const ENTRYPOINT_NAME = 'convex-entrypoint';

/**
 * One start-up step of the entrypoint wrapper: POSIX `sh` that runs in the wrapper's own shell,
 * in order, before the backend starts. What it `export`s reaches the backend.
 *
 * The steps run under `set -e`: the first command that fails stops the container with its exit
 * status, before the backend starts, and the last `convex-entrypoint: start-up step:` line in the
 * log names the step. The script is stored in the task definition in clear text: take values from
 * the container's environment or secrets (`"$NAME"`), never write a secret into it. It must not
 * `exit` on success or leave background jobs.
 */
export interface EntrypointStep {
  /** What the step does, in a few words; logged before it runs (never log a value here). */
  readonly description: string;
  /** The step's shell text (POSIX `sh`; the image's `/bin/sh` is dash). */
  readonly script: string;
}

/** `value` as one single-quoted `sh` word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The wrapper script. Run it as `sh -c <script> convex-entrypoint <image entrypoint> [args...]`
 * (see {@link entrypointCommand}): it runs `steps` in order, starts `"$@"` (the image's entrypoint
 * and the container's command) as a child, passes SIGTERM to it as SIGINT and
 * {@link FORWARDED_SIGNALS} unchanged, and exits with the child's exit status as soon as the
 * child exits.
 */
export function entrypointScript(steps: readonly EntrypointStep[] = []): string {
  const stepLines = steps.flatMap((step) => [`convex_entrypoint_log ${shellQuote(`start-up step: ${step.description}`)}`, step.script.trimEnd()]);
  const traps = FORWARDED_SIGNALS.map((signal) => `trap 'convex_entrypoint_forward ${signal} ${signal}' ${signal}`);
  return [
    `# ${ENTRYPOINT_NAME} (cdk-convex-storage): ECS stops with SIGTERM, the Convex backend drains on SIGINT.`,
    'convex_entrypoint_log() { printf \'%s: %s\\n\' "$0" "$1" >&2; }',
    'convex_entrypoint_dir=$PWD',
    'convex_entrypoint_pid=',
    'convex_entrypoint_pending=',
    // Before the backend runs there is nothing to drain: a stop ends the container at once.
    `trap 'exit 143' ${ECS_STOP_SIGNAL}`,
    'trap \'exit 130\' INT',
    'set -e',
    ...stepLines,
    'set +e',
    'cd "$convex_entrypoint_dir" || exit 1',
    // $1: the signal received, $2: the one the backend gets. A signal that arrives before the
    // backend's PID is known is sent once it is.
    'convex_entrypoint_forward() {',
    '  if [ -z "$convex_entrypoint_pid" ]; then convex_entrypoint_pending="$1 $2"; return; fi',
    '  convex_entrypoint_log "SIG$1 received, sending SIG$2 to the backend (PID $convex_entrypoint_pid)"',
    '  kill -s "$2" "$convex_entrypoint_pid" 2>/dev/null',
    '}',
    `trap 'convex_entrypoint_forward ${ECS_STOP_SIGNAL} ${BACKEND_STOP_SIGNAL}' ${ECS_STOP_SIGNAL}`,
    ...traps,
    // A non-interactive shell starts a background job with SIGINT and SIGQUIT ignored, and dash
    // cannot undo that (`set -m` needs a terminal, `trap -` cannot reset an inherited ignore). GNU
    // env (in the image) restores their default handling, so the backend's entrypoint starts as it
    // would as PID 1; without it the backend still installs its own SIGINT handler.
    'if env --default-signal=INT true >/dev/null 2>&1; then',
    '  env --default-signal=INT,QUIT "$@" &',
    'else',
    '  "$@" &',
    'fi',
    'convex_entrypoint_pid=$!',
    // Word splitting of "received sent" is intended.
    'if [ -n "$convex_entrypoint_pending" ]; then convex_entrypoint_forward $convex_entrypoint_pending; fi',
    // `wait` returns early (above 128) when a trapped signal arrives: wait again while the
    // backend runs. Once it has gone, one more `wait` gives its real status even if the last one
    // was cut short after the shell had reaped it (dash keeps it; bash answers 127 "not a child",
    // and the status already read stands).
    'while :; do',
    '  wait "$convex_entrypoint_pid"',
    '  convex_entrypoint_status=$?',
    '  kill -0 "$convex_entrypoint_pid" 2>/dev/null || break',
    'done',
    'wait "$convex_entrypoint_pid" 2>/dev/null',
    'convex_entrypoint_last=$?',
    '[ "$convex_entrypoint_last" -eq 127 ] || convex_entrypoint_status=$convex_entrypoint_last',
    'exit "$convex_entrypoint_status"',
    '',
  ].join('\n');
}

/**
 * The container `entryPoint` that runs the wrapper around `imageEntrypoint`: `/bin/sh -c <script>
 * convex-entrypoint <imageEntrypoint...>`. Leave the container's `command` unset (the image has no
 * `CMD`): a command becomes further arguments of the image's entrypoint, as without the wrapper.
 */
export function entrypointCommand(steps: readonly EntrypointStep[] = [], imageEntrypoint: readonly string[] = BACKEND_IMAGE_ENTRYPOINT): string[] {
  const [program] = imageEntrypoint;
  // GNU env would read a first word with '=' as a variable assignment.
  if (program === undefined || program.includes('=') || program.startsWith('-')) {
    throw new Error(`The image entrypoint must start with a program path without '=' and not starting with '-': got ${JSON.stringify(imageEntrypoint)}.`);
  }
  return ['/bin/sh', '-c', entrypointScript(steps), ENTRYPOINT_NAME, ...imageEntrypoint];
}
