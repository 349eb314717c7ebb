/**
 * Lines of a `.env` that its loader (docker compose; dotenvy agrees on these cases) does not read
 * as they seem to be written: reported with their line numbers, before any request is made.
 */
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import { readDotEnv } from '../../lib/dotenv';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { cli, isolateAwsEnv, tempDir } from './helpers';

const complete = (endpoint: string) =>
  [
    "AWS_REGION='us-east-1'",
    `S3_ENDPOINT_URL='${endpoint}'`,
    'AWS_ACCESS_KEY_ID=key',
    'AWS_SECRET_ACCESS_KEY=secret',
    ...STORAGE_KINDS.map((k) => `${k.envVar}='app-${k.bucketSuffix}'`),
  ].join('\n');

describe('readDotEnv', () => {
  test('a line without =, one without a name and an unterminated quote are errors with their line numbers', () => {
    const { values, problems } = readDotEnv(
      ['# comment', 'AWS_REGION=us-east-1', 'no equals sign', '=novalue', 'S3_STORAGE_EXPORTS_BUCKET="unterminated', 'S3_STORAGE_FILES_BUCKET=files', ''].join('\n'),
    );
    expect(problems.map((p) => [p.line, p.level, p.key])).toEqual([
      [3, 'error', undefined],
      [4, 'error', undefined],
      [5, 'error', 'S3_STORAGE_EXPORTS_BUCKET'],
    ]);
    expect(problems[0].message).toMatch(/^line 3: 'no equals sign' is not a NAME=value assignment: docker compose refuses the whole file/);
    expect(problems[1].message).toMatch(/^line 4: '=novalue' assigns no variable/);
    expect(problems[2].message).toMatch(/^line 5: the " that starts S3_STORAGE_EXPORTS_BUCKET's value is never closed.*unterminated quoted value/);
    // The unterminated value is no bucket name; the lines after it are still read.
    expect(values.has('S3_STORAGE_EXPORTS_BUCKET')).toBe(false);
    expect(Object.fromEntries(values)).toEqual({ AWS_REGION: 'us-east-1', S3_STORAGE_FILES_BUCKET: 'files' });
  });

  test('a quote closed on a later line makes one value of the lines between: assignments in it are an error', () => {
    const swallowing = readDotEnv(["A='first", "S3_STORAGE_FILES_BUCKET='files'", 'B=2'].join('\n'));
    expect(swallowing.problems).toEqual([
      expect.objectContaining({ line: 1, level: 'error', key: 'A', message: expect.stringMatching(/closes only on line 2.*assignments in it \(S3_STORAGE_FILES_BUCKET\)/) }),
    ]);
    expect(swallowing.values.get('A')).toBe('first\nS3_STORAGE_FILES_BUCKET=');
    expect(swallowing.values.has('S3_STORAGE_FILES_BUCKET')).toBe(false);
    expect(swallowing.values.get('B')).toBe('2');
    // A deliberate value of several lines is only a warning.
    const multiline = readDotEnv(['CERT="line one', 'line two"', 'B=2'].join('\n'));
    expect(multiline.problems.map((p) => [p.line, p.level])).toEqual([[1, 'warning']]);
    expect(multiline.values.get('CERT')).toBe('line one\nline two');
  });

  test('what compose reads but other loaders do not is a warning; valid forms are no problem', () => {
    const { values, problems } = readDotEnv(
      ['FROM_SHELL', 'KEY: value', "export A='x' # note", 'B="with \\" quote"', 'C=plain # comment', 'DOT.KEY=ok', '  ', '\t# indented comment'].join('\n'),
    );
    expect(problems.map((p) => [p.line, p.level, p.key])).toEqual([
      [1, 'warning', 'FROM_SHELL'],
      [2, 'warning', 'KEY'],
    ]);
    expect(Object.fromEntries(values)).toMatchObject({ KEY: 'value', A: 'x', B: 'with " quote', C: 'plain', 'DOT.KEY': 'ok' });
  });

  test('a line that may hold a secret is not quoted in the message', () => {
    const { problems } = readDotEnv('AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG\n');
    expect(problems[0].message).toContain("'AWS_SECRET_ACCESS_KEY...' (value not shown)");
    expect(problems[0].message).not.toContain('wJalr');
  });
});

describe('verify and provision on such a file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: http.Server;
  let endpoint: string;
  let requests = 0;
  beforeAll(async () => {
    isolateAwsEnv();
    server = http.createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    tmp = tempDir();
    requests = 0;
  });
  afterEach(() => tmp.cleanup());

  test('verify lists each unreadable line with its number, makes no request, and fails', async () => {
    const text = complete(endpoint).replace("S3_STORAGE_EXPORTS_BUCKET='app-exports'", 'S3_STORAGE_EXPORTS_BUCKET="unterminated') + '\nno equals sign\n=novalue\n';
    writeFileSync(join(tmp.dir, '.env'), text);
    const run = await cli(['verify'], { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(requests).toBe(0);
    expect(run.stdout).toMatch(/^- line 5: the " that starts S3_STORAGE_EXPORTS_BUCKET's value is never closed/m);
    expect(run.stdout).toMatch(/^- line 10: 'no equals sign' is not a NAME=value assignment/m);
    expect(run.stdout).toMatch(/^- line 11: '=novalue' assigns no variable/m);
    // Not read as the bucket name "unterminated.
    expect(run.stdout).toMatch(/^S3_STORAGE_EXPORTS_BUCKET +- +NOT SET$/m);
    expect(run.stdout).toMatch(/Buckets not probed: .*\.env does not load as written/);
    expect(run.stdout).toMatch(/Result: FAILED \(3 unreadable lines in the file, 1 variable problem\)\./);
    const json = JSON.parse((await cli(['verify', '--json'], { cwd: tmp.dir })).stdout);
    expect(json.findings.filter((f: { line?: number }) => f.line !== undefined).map((f: { line: number; level: string }) => [f.line, f.level])).toEqual([
      [5, 'error'],
      [10, 'error'],
      [11, 'error'],
    ]);
  });

  test('warnings alone do not stop the probes', async () => {
    writeFileSync(join(tmp.dir, '.env'), `${complete(endpoint)}\nFROM_SHELL\n`);
    const run = await cli(['verify', '--timeout', '2'], { cwd: tmp.dir });
    expect(run.stdout).toMatch(/^warning: line 10: 'FROM_SHELL' has no '='/m);
    expect(requests).toBeGreaterThan(0);
  });

  test('provision refuses before any request', async () => {
    writeFileSync(join(tmp.dir, '.env'), `${complete(endpoint)}\nno equals sign\n`);
    const run = await cli(['provision'], { cwd: tmp.dir });
    expect(run).toMatchObject({ code: 1, stderr: expect.stringMatching(/Fix .*\.env first:\n {2}line 10: 'no equals sign' is not a NAME=value assignment/) });
    expect(requests).toBe(0);
  });
});
