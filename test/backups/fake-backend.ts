/**
 * A loopback HTTP server that answers like a Convex backend's export API (and like Secrets
 * Manager's GetSecretValue), with the shapes read from get-convex/convex-backend: the request
 * route answers an empty 200 or 400 `{"code":"ExportInProgress",...}`; `getLatest` answers
 * `{"status":"success","value":<export|null>}` with int64 fields as strings (the `json` format);
 * `set_expiration` takes `{"expirationTsNs": <u64>}` and only for a completed export; any route
 * answers 401 `BadAdminKey` unless the Authorization header holds a key the instance accepts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyAdminKey, type AdminKeyClaims } from '../../lib/admin-key/admin-key';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The admin key's claims, when its Authorization header held a valid key. */
  readonly claims?: AdminKeyClaims;
}

/** An export in the fake's `_exports` table. */
export interface FakeExport {
  _id: string;
  state: 'requested' | 'in_progress' | 'completed' | 'failed';
  start_ts?: string;
  expiration_ts?: string;
  /** States this export goes through, one per `getLatest` call, after its current one. */
  next?: FakeExport['state'][];
}

export interface FakeBackend {
  readonly url: string;
  readonly requests: SeenRequest[];
  readonly exports: FakeExport[];
  /** States a newly requested export goes through after 'requested', one per `getLatest` call. */
  progression: FakeExport['state'][];
  /** The state a newly requested export starts in. */
  firstState: FakeExport['state'];
  /** Called when an export request arrives, before it is answered (e.g. to start someone else's). */
  beforeRequest?: () => void;
  close(): Promise<void>;
}

export const START_TS = '1764547200000000000';
const DAY_NS = BigInt(86_400) * BigInt(1_000_000_000);
/** The expiration the backend gives a new export: 14 days after it was requested. */
export const DEFAULT_EXPIRATION = (BigInt(START_TS) + BigInt(14) * DAY_NS).toString();

export async function startFakeBackend(instance: { instanceName: string; instanceSecret: string; secretArn: string }): Promise<FakeBackend> {
  const requests: SeenRequest[] = [];
  const exports: FakeExport[] = [];
  let counter = 0;
  const json = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(JSON.stringify(body));
  };
  const state: { progression: FakeExport['state'][]; firstState: FakeExport['state'] } = { progression: ['in_progress', 'completed'], firstState: 'requested' };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let claims: AdminKeyClaims | undefined;
      const auth = req.headers.authorization;
      if (auth?.startsWith('Convex ')) {
        try {
          claims = verifyAdminKey(auth.slice('Convex '.length), instance);
        } catch {
          claims = undefined;
        }
      }
      requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, ...(claims ? { claims } : {}) });

      // Secrets Manager's JSON protocol (AWS_ENDPOINT_URL_SECRETS_MANAGER points here).
      if (req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        if (SecretId !== instance.secretArn) {
          json(res, 400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can\'t find the specified secret.' }, 'application/x-amz-json-1.1');
          return;
        }
        json(res, 200, { ARN: instance.secretArn, Name: 'instance-secret', SecretString: secretValue.current, VersionId: 'v1' }, 'application/x-amz-json-1.1');
        return;
      }
      if (!claims) {
        json(res, 401, { code: 'BadAdminKey', message: 'The provided admin key was invalid for this instance' });
        return;
      }
      const latest = exports[exports.length - 1];
      if (req.method === 'POST' && url.pathname === '/api/query') {
        const query = JSON.parse(body) as { path: string; format?: string };
        if (query.path !== '_system/cli/exports:getLatest') {
          json(res, 200, { status: 'error', errorMessage: `Could not find function for '${query.path}'` });
          return;
        }
        const answer = latest ? { _id: latest._id, _creationTime: 1764547200000.5, state: latest.state, ...(latest.start_ts ? { start_ts: latest.start_ts } : {}), ...(latest.expiration_ts ? { expiration_ts: latest.expiration_ts } : {}), format: { format: 'zip', include_storage: true }, requestor: 'snapshotExport' } : null;
        json(res, 200, { status: 'success', value: answer });
        // The export moves on after each look.
        const step = latest?.next?.shift();
        if (latest && step) {
          latest.state = step;
          if (step !== 'requested') latest.start_ts ??= START_TS;
        }
        return;
      }
      if (req.method === 'POST' && url.pathname === '/api/export/request/zip') {
        fake.beforeRequest?.();
        const latest = exports[exports.length - 1];
        if (latest && (latest.state === 'requested' || latest.state === 'in_progress')) {
          json(res, 400, { code: 'ExportInProgress', message: 'There is already an export requested or in progress.' });
          return;
        }
        counter += 1;
        exports.push({ _id: `export${counter}`, state: state.firstState, ...(state.firstState === 'requested' ? {} : { start_ts: START_TS }), expiration_ts: DEFAULT_EXPIRATION, next: [...state.progression] });
        res.writeHead(200);
        res.end();
        return;
      }
      const expiration = /^\/api\/export\/set_expiration\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && expiration) {
        const target = exports.find((e) => e._id === decodeURIComponent(expiration[1]));
        const match = /^\{"expirationTsNs":(\d+)\}$/.exec(body);
        if (!target || target.state !== 'completed' || !match) {
          json(res, 400, { code: 'BadRequest', message: target ? 'Can only set expiration on completed exports' : 'Snapshot not found' });
          return;
        }
        target.expiration_ts = match[1];
        res.writeHead(200);
        res.end();
        return;
      }
      json(res, 404, { code: 'NotFound', message: 'No route' });
    });
  });
  const secretValue = { current: instance.instanceSecret };
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const fake: FakeBackend = {
    url: `http://127.0.0.1:${port}`,
    requests,
    exports,
    get progression() {
      return state.progression;
    },
    set progression(value) {
      state.progression = value;
    },
    get firstState() {
      return state.firstState;
    },
    set firstState(value) {
      state.firstState = value;
    },
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
  return fake;
}
