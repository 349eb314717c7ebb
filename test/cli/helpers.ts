/**
 * Test helpers: an in-process s3rver on 127.0.0.1 (optionally behind a filter that imitates a
 * stricter provider), a captured CliIo, and an AWS environment with no real credentials.
 */
import { existsSync, mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliIo } from '../../lib/cli/io';
import { runCli } from '../../lib/cli/main';

/** s3rver's built-in account (the only key it knows; it does not check SigV4 signatures). */
export const S3RVER_KEY = { id: 'S3RVER', secret: 'S3RVER' };

/**
 * Removes every way the AWS SDK could find real credentials or reach a metadata service, so no
 * test can touch AWS and the default chain fails fast.
 */
export function isolateAwsEnv(): void {
  for (const key of Object.keys(process.env)) {
    if (/^AWS_/.test(key)) {
      delete process.env[key];
    }
  }
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_CONFIG_FILE = '/nonexistent/convex-storage-test-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/convex-storage-test-credentials';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

/**
 * {@link isolateAwsEnv}, plus test-only keys: the SDK clients need credentials to sign with
 * before a mocked `send` answers.
 */
export function isolateAwsEnvWithTestKeys(): void {
  isolateAwsEnv();
  process.env.AWS_ACCESS_KEY_ID = 'AKIATESTONLY00000000';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-only-secret';
}

/** A filter in front of s3rver: return true after answering the request itself. */
export type RequestFilter = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Bucket and key of a path-style request (`/bucket/key?query`); key is '' for bucket-level calls. */
export function requestTarget(req: http.IncomingMessage): { bucket: string; key: string; query: URLSearchParams } {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
  return { bucket, key: decodeURIComponent(rest.join('/')), query: url.searchParams };
}

/** The first filter that answers wins; the others are not asked. */
export function firstOf(...filters: RequestFilter[]): RequestFilter {
  return (req, res) => filters.some((filter) => filter(req, res));
}

/**
 * Like a least-privilege policy without s3:DeleteObject: DeleteObject (not AbortMultipartUpload)
 * in `buckets` answers 403 AccessDenied, as S3 does.
 */
export function denyDeleteIn(buckets: readonly string[]): RequestFilter {
  return (req, res) => {
    const { bucket, key, query } = requestTarget(req);
    return req.method === 'DELETE' && key !== '' && !query.has('uploadId') && buckets.includes(bucket)
      ? s3Error(res, 403, 'AccessDenied', 'Access Denied')
      : false;
  };
}

/** A running s3rver. */
export interface TestS3 {
  readonly dir: string;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Another listener on the same store, with a filter in front. */
  withFilter(filter: RequestFilter): Promise<{ endpoint: string; close: () => Promise<void> }>;
  /** Files under a bucket's directory (objects, and s3rver's stored multipart uploads). */
  filesIn(bucket: string): string[];
  /**
   * s3rver answers AbortMultipartUpload with 405; this filter implements it the way S3 does
   * (the stored parts are removed, 204), for tests of providers that can abort.
   */
  readonly abortUploads: RequestFilter;
  close(): Promise<void>;
}

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: http.Server | net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts s3rver on a random loopback port in a fresh temp directory, with `buckets` created. */
export async function startS3(buckets: readonly string[]): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'convex-storage-s3rver-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  await s3rver.configureBuckets();
  const app = s3rver.callback();
  const servers: http.Server[] = [];
  const serve = async (filter?: RequestFilter) => {
    const server = http.createServer((req, res) => {
      if (!filter || !filter(req, res)) {
        void app(req, res);
      }
    });
    servers.push(server);
    return { server, port: await listen(server) };
  };
  const main = await serve();
  return {
    dir,
    port: main.port,
    endpoint: `http://127.0.0.1:${main.port}`,
    async withFilter(filter) {
      const { server, port } = await serve(filter);
      return { endpoint: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
    },
    abortUploads(req, res) {
      const { bucket, key, query } = requestTarget(req);
      const uploadId = query.get('uploadId');
      if (req.method !== 'DELETE' || key === '' || !uploadId || /[/\\.]/.test(uploadId)) {
        return false;
      }
      const upload = join(dir, bucket, '._S3rver_uploads', uploadId);
      if (!existsSync(upload)) {
        return s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      }
      rmSync(upload, { recursive: true, force: true });
      res.writeHead(204).end();
      return true;
    },
    filesIn(bucket) {
      const out: string[] = [];
      const walk = (d: string) => {
        for (const entry of readdirSync(d)) {
          const p = join(d, entry);
          if (statSync(p).isDirectory()) {
            walk(p);
          } else {
            out.push(p.slice(dir.length + 1));
          }
        }
      };
      walk(join(dir, bucket));
      return out;
    },
    async close() {
      await Promise.all(servers.map(closeServer));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers a request with an S3 XML error, as a provider would. */
export function s3Error(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): true {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>test</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
  return true;
}

/** A loopback port that was open a moment ago and is now closed: connections are refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/** A loopback server that accepts connections and never answers. */
export async function stalledServer(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await closeServer(server);
    },
  };
}

/** Output of one in-process CLI run. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with captured streams. */
export async function cli(argv: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: options.env ?? {},
    cwd: options.cwd,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'convex-storage-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Mocked CloudFormation and Secrets Manager clients (aws-sdk-client-mock), reset before each test,
 * with fake AWS credentials for the file and a fresh temp directory per test (`tmp.dir`). Call it
 * once at the top of a test file: it registers the jest hooks.
 */
export function mockStackClients() {
  const cfn = mockClient(CloudFormationClient);
  const sm = mockClient(SecretsManagerClient);
  const tmp = { dir: '' };
  let current: ReturnType<typeof tempDir> | undefined;
  beforeAll(isolateAwsEnvWithTestKeys);
  beforeEach(() => {
    cfn.reset();
    sm.reset();
    current = tempDir();
    tmp.dir = current.dir;
  });
  afterEach(() => current?.cleanup());
  afterAll(() => {
    cfn.restore();
    sm.restore();
  });
  return { cfn, sm, tmp };
}
