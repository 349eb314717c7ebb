/**
 * The public host names of a Convex backend service and the URLs derived from them: what the
 * load balancer serves, what the backend gets as `CONVEX_CLOUD_ORIGIN`/`CONVEX_SITE_ORIGIN` and
 * what the dashboard gets as `NEXT_PUBLIC_DEPLOYMENT_URL` all come from here, so they cannot
 * disagree. No aws-cdk-lib import: the app's context checks and the construct share it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ONE_DOMAIN_SITE_PATH } from '../ecs/origins';

/** The host names of a service, as given (see {@link serviceHosts}). */
export interface ServiceHostSettings {
  /**
   * Domain the default host names are made under: `api.<domainName>`, `site.<domainName>`,
   * `dashboard.<domainName>`.
   *
   * @default - no default host names: each host must be given
   */
  readonly domainName?: string;
  /**
   * Host of the API (port 3210).
   *
   * @default `api.<domainName>`
   */
  readonly apiHost?: string;
  /**
   * Host of the HTTP actions (port 3211).
   *
   * @default `site.<domainName>`
   */
  readonly siteHost?: string;
  /**
   * Host of the dashboard (port 6791).
   *
   * @default `dashboard.<domainName>`
   */
  readonly dashboardHost?: string;
  /**
   * Serve HTTP actions on the API host under `/http` instead of on a host of their own.
   *
   * @default false
   */
  readonly siteOnApiHost?: boolean;
}

/** The host names a service serves. */
export interface ServiceHosts {
  /** Host of the API. */
  readonly apiHost: string;
  /**
   * Host of the HTTP actions.
   *
   * @default - none: they are served on the API host under `/http`
   */
  readonly siteHost?: string;
  /** Host of the dashboard. */
  readonly dashboardHost: string;
}

/** The public URLs of a service. */
export interface ServiceUrls {
  /** `CONVEX_CLOUD_ORIGIN`, the dashboard's `NEXT_PUBLIC_DEPLOYMENT_URL` and `CONVEX_SELF_HOSTED_URL`. */
  readonly apiUrl: string;
  /** `CONVEX_SITE_ORIGIN`: where HTTP actions are served. */
  readonly siteUrl: string;
  /** Where the dashboard is served. */
  readonly dashboardUrl: string;
}

/** The hosts of `settings`, each given or made under `domainName`; undefined entries are missing. */
export function serviceHosts(settings: ServiceHostSettings): { apiHost?: string; siteHost?: string; dashboardHost?: string } {
  const under = (name: string) => (settings.domainName === undefined ? undefined : `${name}.${settings.domainName}`);
  return {
    apiHost: settings.apiHost ?? under('api'),
    siteHost: settings.siteOnApiHost ? undefined : settings.siteHost ?? under('site'),
    dashboardHost: settings.dashboardHost ?? under('dashboard'),
  };
}

/** The URLs of hosts served over HTTPS on port 443. */
export function httpsServiceUrls(hosts: ServiceHosts): ServiceUrls {
  const apiUrl = `https://${hosts.apiHost}`;
  return {
    apiUrl,
    siteUrl: hosts.siteHost === undefined ? `${apiUrl}${ONE_DOMAIN_SITE_PATH}` : `https://${hosts.siteHost}`,
    dashboardUrl: `https://${hosts.dashboardHost}`,
  };
}

/**
 * The URLs of a load balancer without a domain, on its own DNS name over plain HTTP (trials
 * only): the API on port 80 with HTTP actions under `/http`, the dashboard on its own port.
 */
export function plainHttpServiceUrls(dnsName: string, dashboardPort: number): ServiceUrls {
  const apiUrl = `http://${dnsName}`;
  return { apiUrl, siteUrl: `${apiUrl}${ONE_DOMAIN_SITE_PATH}`, dashboardUrl: `http://${dnsName}:${dashboardPort}` };
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Problems with a DNS host name given as `setting`: lowercase labels, a dot, no scheme, port or path. */
export function hostNameProblems(setting: string, value: string): string[] {
  if (/^[a-z]+:\/\//i.test(value) || /[/:]/.test(value)) {
    return [`${setting} '${value}' must be a host name without scheme, port or path (e.g. api.convex.example.com).`];
  }
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const labels = name.split('.');
  if (name.length > 253 || labels.length < 2 || !labels.every((label) => LABEL.test(label)) || value !== value.toLowerCase()) {
    return [`${setting} '${value}' is not a valid host name: expected lowercase labels of letters, digits and hyphens separated by dots, at least two labels (e.g. api.convex.example.com).`];
  }
  return [];
}

/** Whether `host` is `zone` or a name under it (case-insensitive, trailing dots ignored). */
export function isInZone(host: string, zone: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const z = zone.toLowerCase().replace(/\.$/, '');
  return h === z || h.endsWith(`.${z}`);
}

/** Problems with a CIDR block given as `setting` (IPv4 `a.b.c.d/n` or IPv6 `x::/n`). */
export function cidrProblems(setting: string, value: string): string[] {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value);
  const bad = [`${setting}: '${value}' is not a CIDR block; expected e.g. 203.0.113.0/24 or 2001:db8::/48 (a single address is 203.0.113.7/32).`];
  if (!match) return bad;
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  if (isIPv4(address)) {
    if (prefix > 32) return bad;
    const value32 = address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const hostBits = 32 - prefix;
    if (hostBits > 0 && value32 % 2 ** hostBits !== 0) {
      return [`${setting}: '${value}' has host bits set; the network is ${networkOf(value32, prefix)}/${prefix}.`];
    }
    return [];
  }
  if (isIPv6(address) && prefix <= 128) return [];
  return bad;
}

function networkOf(value32: number, prefix: number): string {
  const network = prefix === 0 ? 0 : Math.floor(value32 / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
}

/** Problems with an e-mail address for alarm notifications. */
export function emailProblems(setting: string, value: string): string[] {
  return /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(value) ? [] : [`${setting}: '${value}' is not an e-mail address (e.g. ops@example.com).`];
}
