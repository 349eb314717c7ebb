/**
 * The backend's public origins (`CONVEX_CLOUD_ORIGIN`, `CONVEX_SITE_ORIGIN`): what the backend
 * accepts, and what the image falls back to. No aws-cdk-lib here, so any construct or the CLI can
 * check an origin.
 */
import { BACKEND_API_PORT, BACKEND_SITE_PORT } from './backend-ports';

/** Origins the image falls back to (upstream docker-compose): reachable only inside the task. */
export const LOCAL_CLOUD_ORIGIN = `http://127.0.0.1:${BACKEND_API_PORT}`;
/** See {@link LOCAL_CLOUD_ORIGIN}. */
export const LOCAL_SITE_ORIGIN = `http://127.0.0.1:${BACKEND_SITE_PORT}`;

/**
 * The upstream one-domain layout: the HTTP actions under `<cloud origin>/http`, served by the
 * API listener (3210) too, e.g. `https://api.example.com/http`.
 */
export const ONE_DOMAIN_SITE_PATH = '/http';

/** Options of {@link originProblems}. */
export interface OriginRules {
  /**
   * Whether the URL may carry a path (`CONVEX_SITE_ORIGIN` may: upstream documents
   * `<cloud origin>/http`). Never a trailing slash, query or fragment: the backend appends its
   * own paths.
   *
   * @default false
   */
  readonly allowPath?: boolean;
}

/**
 * Problems with a public origin: an http(s) URL with a host, no credentials, query or fragment,
 * no trailing slash, and a path only where `rules.allowPath` says so.
 */
export function originProblems(prop: string, value: string, rules: OriginRules = {}): string[] {
  const example = rules.allowPath ? `e.g. https://site.convex.example.com, or https://api.convex.example.com${ONE_DOMAIN_SITE_PATH} on one domain` : 'e.g. https://convex.example.com';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`${prop} '${value}' is not a URL: expected ${example} (scheme and host, optional port${rules.allowPath ? ' and path' : ', no path'}).`];
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${prop} '${value}' must start with https:// (or http://).`);
  }
  if (url.username || url.password) {
    problems.push(`${prop} '${value}' must not contain credentials.`);
  }
  if (rules.allowPath) {
    if (value.endsWith('/') || url.search || url.hash) {
      problems.push(`${prop} '${value}' must not end in a slash or carry a query or fragment (${example}): the backend appends its own paths.`);
    }
  } else if (url.pathname !== '/' || value.endsWith('/') || url.search || url.hash) {
    problems.push(`${prop} '${value}' must be an origin without a path, trailing slash, query or fragment (${example}): the backend appends its own paths.`);
  }
  return problems;
}

/** Whether `hostname` (as `URL.hostname` gives it) is a loopback address or `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why a valid origin is risky, if it is: plain `http://` to a host that is not loopback. Browsers
 * on HTTPS pages refuse it (mixed content), and admin keys and session tokens would cross the
 * network in clear text. Undefined for https, loopback, or a value that is not a URL.
 */
export function plainHttpOriginRisk(prop: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return undefined;
  return `${prop} '${value}' is plain http:// to a host that is not loopback: browsers on HTTPS pages cannot use it (mixed content), and admin keys, auth tokens and data would cross the network in clear text. Serve it over https:// (e.g. a load balancer with a certificate).`;
}
