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

/** Problems with a public origin: an http(s) URL with a host and no path, query or fragment. */
export function originProblems(prop: string, value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`${prop} '${value}' is not a URL: expected e.g. https://convex.example.com (scheme and host, optional port, no path).`];
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${prop} '${value}' must start with https:// (or http://).`);
  }
  if (url.username || url.password) {
    problems.push(`${prop} '${value}' must not contain credentials.`);
  }
  if (url.pathname !== '/' || value.endsWith('/') || url.search || url.hash) {
    problems.push(`${prop} '${value}' must be an origin without a path, trailing slash, query or fragment (e.g. https://convex.example.com): the backend appends its own paths.`);
  }
  return problems;
}
