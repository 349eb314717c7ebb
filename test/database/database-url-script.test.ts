/**
 * The start-up step that builds POSTGRES_URL inside the container, run under `sh` (dash here, as
 * in the image) with stand-in secret values.
 */
import { spawnSync } from 'node:child_process';
import { databaseUrlParts, databaseUrlStartupScript } from '../../lib/database/database-url-script';

const PARTS = databaseUrlParts('POSTGRES_URL');
const HOST = 'convex-db.abcdefghijkl.eu-west-1.rds.amazonaws.com';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the step under `sh -e` (the wrapper runs steps under `set -e`), then `after`. */
function run(values: Partial<Record<keyof typeof PARTS, string>>, after = 'printf %s "$POSTGRES_URL"', shell = 'sh'): Run {
  // A UTF-8 locale, where bash would read 'ä' as one character: the step switches to C itself.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const [part, value] of Object.entries(values)) env[PARTS[part as keyof typeof PARTS]] = value as string;
  const result = spawnSync(shell, ['-ec', `${databaseUrlStartupScript('POSTGRES_URL')}${after}`], { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const PARTS_OK = { username: 'convex', password: 'Xq3vP9tL2mWc7rYb5nKd8sHf4jGa6e', host: HOST, port: '5432' };

test('exports the exact URL the backend wants: user, password, host and port, no path, no query', () => {
  const result = run(PARTS_OK);
  expect(result).toEqual({ status: 0, stderr: '', stdout: `postgres://convex:Xq3vP9tL2mWc7rYb5nKd8sHf4jGa6e@${HOST}:5432` });
});

test.each([
  ['reserved URL characters', 'p@ss:w/rd?#[]%', 'p%40ss%3Aw%2Frd%3F%23%5B%5D%25'],
  ['spaces, quotes and shell syntax', 'a b\'c"d$(e)`f`\\g', 'a%20b%27c%22d%24%28e%29%60f%60%5Cg'],
  ['non-ASCII text, byte by byte', 'pässwörd€', 'p%C3%A4ssw%C3%B6rd%E2%82%AC'],
  ['the unreserved punctuation, kept', 'a-b.c_d~e', 'a-b.c_d~e'],
  ['a trailing newline', 'secret\n', 'secret%0A'],
])('percent-encodes a password set by hand: %s', (_, password, encoded) => {
  for (const shell of ['sh', 'bash']) {
    const result = run({ ...PARTS_OK, username: 'my user', password }, 'printf %s "$POSTGRES_URL"', shell);
    expect(result.stdout).toBe(`postgres://my%20user:${encoded}@${HOST}:5432`);
    // What the backend's URL parser reads back is the password that was set.
    const url = new URL(result.stdout);
    expect([decodeURIComponent(url.username), decodeURIComponent(url.password), url.hostname, url.port, url.pathname, url.search])
      .toEqual(['my user', password, HOST, '5432', '', '']);
  }
});

test('exports only the URL: the parts are gone from the environment the backend inherits', () => {
  const result = run(PARTS_OK, 'env');
  const names = result.stdout.split('\n').map((line) => line.split('=')[0]);
  expect(names).toContain('POSTGRES_URL');
  expect(names.filter((name) => name.startsWith('POSTGRES_URL_'))).toEqual([]);
  expect(names.filter((name) => name.startsWith('convex_'))).toEqual([]);
});

test.each(Object.keys(PARTS))('a missing %s stops the start-up with a message that names it and shows no value', (part) => {
  for (const missing of [undefined, '']) {
    const values: Record<string, string> = { ...PARTS_OK };
    if (missing === undefined) delete values[part]; else values[part] = missing;
    const result = run(values, 'echo started');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${PARTS[part as keyof typeof PARTS]} is empty, so POSTGRES_URL cannot be built`);
    expect(result.stderr).not.toContain(PARTS_OK.password);
  }
});

test('prints nothing on success, so no log line can carry the password', () => {
  expect(run(PARTS_OK, '').stdout + run(PARTS_OK, '').stderr).toBe('');
});

test('MYSQL_URL on the same pattern', () => {
  const parts = databaseUrlParts('MYSQL_URL');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', [parts.username]: 'convex', [parts.password]: 'a@b', [parts.host]: HOST, [parts.port]: '3306' };
  const result = spawnSync('sh', ['-ec', `${databaseUrlStartupScript('MYSQL_URL')}printf %s "$MYSQL_URL"`], { env, encoding: 'utf8' });
  expect(result.stdout).toBe(`mysql://convex:a%40b@${HOST}:3306`);
});
