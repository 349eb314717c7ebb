/*
 * A stand-in for the Convex backend, for tests of the entrypoint wrapper. It installs its own
 * signal handlers (as the Rust backend does) and records, as JSON lines in $STAND_IN_LOG, its
 * arguments, the variables named in $STAND_IN_ENV, and every signal it gets.
 *
 * $STAND_IN_ON_INT: `exit` (default) exits with $STAND_IN_EXIT_CODE on SIGINT, like the backend
 * after it drained; `hold` keeps running until the file "$STAND_IN_LOG.release" exists, then
 * exits with that code. $STAND_IN_RUN=exit exits with the code right after start.
 */
'use strict';
const fs = require('node:fs');

const log = process.env.STAND_IN_LOG;
const exitCode = Number(process.env.STAND_IN_EXIT_CODE || '0');
const record = (event) => fs.appendFileSync(log, `${JSON.stringify({ ...event, pid: process.pid })}\n`);

const env = Object.fromEntries((process.env.STAND_IN_ENV || '').split(',').filter(Boolean).map((name) => [name, process.env[name] ?? null]));
record({ event: 'start', argv: process.argv.slice(2), env, cwd: process.cwd() });

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM']) {
  process.on(signal, () => {
    record({ event: 'signal', signal });
    if (signal !== 'SIGINT') return;
    if (process.env.STAND_IN_ON_INT === 'hold') {
      setInterval(() => {
        if (fs.existsSync(`${log}.release`)) process.exit(exitCode);
      }, 20);
    } else {
      process.exit(exitCode);
    }
  });
}
record({ event: 'ready' });
if (process.env.STAND_IN_RUN === 'exit') process.exit(exitCode);
setInterval(() => undefined, 1000);
