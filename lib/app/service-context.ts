/**
 * The app's context keys for the running backend service (`service=true` and its settings).
 */
import { DASHBOARD_PORT } from '../ecs/convex-backend-task-definition';
import { cidrProblems, emailProblems, hostNameProblems, isInZone, serviceHosts } from '../service/service-endpoints';
import type { ConvexServiceOptions } from '../stack/convex-storage-stack';
import type { ContextKeyDoc } from './app-config';
import { ContextReader } from './context';

/** The service's context keys, with defaults; the README documents each one. */
export const SERVICE_CONTEXT_KEYS: readonly ContextKeyDoc[] = [
  { key: 'service', default: 'false', description: '`true` runs the backend: a Fargate service with one task behind an HTTPS load balancer, with certificate, DNS records, WAF and alarms (implies the task definition of `ecs=true`). See "Running Convex on AWS in one deploy" in the README.' },
  { key: 'domainName', default: '(none: plain HTTP on the load balancer\'s DNS name, with a warning)', description: 'Domain of the default hosts `api.<domainName>`, `site.<domainName>`, `dashboard.<domainName>`. With `service=true`.' },
  { key: 'hostedZoneId', default: '(none)', description: 'ID of the Route 53 public hosted zone of the hosts (`Z...`): a DNS-validated certificate and alias records are made in it. With `hostedZoneName`.' },
  { key: 'hostedZoneName', default: '(none)', description: 'Name of that hosted zone (e.g. `example.com`); every host must be in it. With `hostedZoneId`.' },
  { key: 'certificateArn', default: '(a DNS-validated certificate in the hosted zone)', description: 'ARN of an ACM certificate (in the stack\'s region) covering every host, instead of a new one. Without a hosted zone, point the hosts at the `LoadBalancerDnsName` output yourself.' },
  { key: 'apiHost', default: 'api.<domainName>', description: 'Host of the API (port 3210): `CONVEX_CLOUD_ORIGIN` and `CONVEX_SELF_HOSTED_URL` are `https://<apiHost>`.' },
  { key: 'siteHost', default: 'site.<domainName>', description: 'Host of the HTTP actions (port 3211): `CONVEX_SITE_ORIGIN` is `https://<siteHost>`.' },
  { key: 'dashboardHost', default: 'dashboard.<domainName>', description: 'Host of the dashboard (port 6791). With `dashboard=true`.' },
  { key: 'siteOnApiHost', default: 'false', description: '`true` serves the HTTP actions on the API host under `/http` (`CONVEX_SITE_ORIGIN` is `https://<apiHost>/http`), upstream\'s one-domain layout; no `siteHost`.' },
  { key: 'dashboardAllowedCidrs', default: '(none: the dashboard is not routed)', description: `Comma-separated CIDR blocks (e.g. \`203.0.113.7/32,2001:db8::/48\`) the dashboard is reachable from; the load balancer refuses everyone else. With \`dashboard=true\` and \`service=true\` (without a domain, on port ${DASHBOARD_PORT}).` },
  { key: 'publicDashboard', default: 'false', description: '`true` routes the dashboard from anywhere (a warning: it then relies on the admin key alone). With `dashboard=true`.' },
  { key: 'waf', default: 'true', description: '`false` leaves out the WAF web ACL (per-IP rate limit, AWS managed known-bad-inputs and IP reputation rules; no body-size rule).' },
  { key: 'alarmEmail', default: '(none: alarms without notifications)', description: 'E-mail address the alarms notify through an SNS topic (confirm the subscription from the first e-mail).' },
  { key: 'deletionProtection', default: 'true', description: '`false` turns off the load balancer\'s deletion protection, for throw-away stages (it must be off before the stack can be deleted).' },
];

const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;

/**
 * Reads the service's settings; undefined unless `service=true`. Problems go to `context`.
 * `dashboard` is the backend's key; it decides whether the dashboard keys apply.
 */
export function readServiceOptions(context: ContextReader, dashboard: boolean): ConvexServiceOptions | undefined {
  const enabled = context.boolean('service') ?? false;
  const problem = (message: string) => context.addProblem(message);
  const host = (key: string): string | undefined => {
    const value = context.string(key);
    if (value === undefined) return undefined;
    const problems = hostNameProblems(key, value);
    for (const p of problems) problem(`${key}: ${p}`);
    return problems.length === 0 ? value : undefined;
  };
  const domainName = host('domainName');
  const apiHost = host('apiHost');
  const siteHost = host('siteHost');
  const dashboardHost = host('dashboardHost');
  const siteOnApiHost = context.boolean('siteOnApiHost');
  const hostedZoneId = context.string('hostedZoneId', { pattern: HOSTED_ZONE_ID, rule: 'expected a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ (aws route53 list-hosted-zones-by-name --dns-name <zone> --query "HostedZones[0].Id"; drop the /hostedzone/ prefix)' });
  const hostedZoneName = host('hostedZoneName');
  const certificateArn = context.string('certificateArn', { pattern: CERTIFICATE_ARN, rule: 'expected an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id> (aws acm list-certificates --query "CertificateSummaryList[].CertificateArn"); it must be in the stack\'s region' });
  const dashboardAllowedCidrs = readCidrs(context);
  const publicDashboard = context.boolean('publicDashboard');
  const waf = context.boolean('waf');
  const alarmEmail = context.string('alarmEmail');
  for (const p of alarmEmail === undefined ? [] : emailProblems('alarmEmail', alarmEmail)) problem(p);
  const deletionProtection = context.boolean('deletionProtection');

  if (!enabled) {
    const stray = SERVICE_CONTEXT_KEYS.map((k) => k.key).filter((key) => key !== 'service' && context.raw(key) !== undefined);
    for (const key of stray) problem(`${key}: only applies with service=true; add -c service=true or drop ${key}.`);
    return undefined;
  }
  for (const key of ['cloudOrigin', 'siteOrigin']) {
    if (context.raw(key) !== undefined) {
      problem(`${key}: with service=true the origins are derived from the host names the load balancer serves (domainName, apiHost, siteHost, siteOnApiHost); drop ${key}.`);
    }
  }
  const zoneIdGiven = context.raw('hostedZoneId') !== undefined;
  if (zoneIdGiven !== (context.raw('hostedZoneName') !== undefined)) {
    const [given, missing] = zoneIdGiven ? ['hostedZoneId', 'hostedZoneName'] : ['hostedZoneName', 'hostedZoneId'];
    problem(`${given}: needs ${missing} too: the zone is imported by both, with no lookup (e.g. -c hostedZoneId=Z0123456789ABC -c hostedZoneName=example.com).`);
  }
  if (siteOnApiHost && context.raw('siteHost') !== undefined) {
    problem('siteHost: siteOnApiHost serves the HTTP actions on the API host under /http; drop siteHost or siteOnApiHost.');
  }
  const hosts = serviceHosts({ domainName, apiHost, siteHost, dashboardHost, siteOnApiHost });
  const anyHost = [domainName, apiHost, siteHost, dashboardHost].some((h) => h !== undefined);
  const zoneOrCertificate = context.raw('hostedZoneId') !== undefined || context.raw('certificateArn') !== undefined;
  if (zoneOrCertificate && !anyHost) {
    problem('domainName: hostedZoneId/certificateArn need host names; set domainName (hosts api.<domainName>, site.<domainName>, dashboard.<domainName>) or apiHost and siteHost.');
  }
  if (anyHost && !zoneOrCertificate) {
    problem('hostedZoneId: host names need a certificate: set hostedZoneId and hostedZoneName (a DNS-validated certificate and alias records are made), or certificateArn.');
  }
  if (anyHost && domainName === undefined) {
    if (hosts.apiHost === undefined) problem('apiHost: not known; set domainName or apiHost.');
    if (!siteOnApiHost && hosts.siteHost === undefined) problem('siteHost: not known; set domainName, siteHost, or siteOnApiHost=true.');
    if (dashboard && hosts.dashboardHost === undefined) problem('dashboardHost: not known; set domainName or dashboardHost.');
  }
  if (hostedZoneName !== undefined) {
    const served = [hosts.apiHost, hosts.siteHost, dashboard ? hosts.dashboardHost : undefined].filter((h): h is string => h !== undefined);
    for (const name of served.filter((h) => !isInZone(h, hostedZoneName))) {
      problem(`hostedZoneName: the host '${name}' is not in the zone '${hostedZoneName}'; use hosts under ${hostedZoneName} (domainName=<name>.${hostedZoneName}), or that host's zone.`);
    }
  }
  if (!dashboard) {
    for (const key of ['dashboardHost', 'dashboardAllowedCidrs', 'publicDashboard']) {
      if (context.raw(key) !== undefined) problem(`${key}: only applies with dashboard=true; add -c dashboard=true or drop ${key}.`);
    }
  } else if (publicDashboard && dashboardAllowedCidrs !== undefined) {
    problem('publicDashboard: a public dashboard is routed from anywhere, so dashboardAllowedCidrs would do nothing; drop one of them.');
  }
  return {
    domainName, apiHost, siteHost, dashboardHost, siteOnApiHost, hostedZoneId, hostedZoneName, certificateArn,
    dashboardAllowedCidrs, publicDashboard, waf, alarmEmail, deletionProtection,
  };
}

function readCidrs(context: ContextReader): string[] | undefined {
  const raw = context.raw('dashboardAllowedCidrs');
  if (raw === undefined) return undefined;
  const values = Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  if (values.length === 0) {
    context.addProblem('dashboardAllowedCidrs: empty; give comma-separated CIDR blocks such as 203.0.113.7/32, or drop the key.');
    return undefined;
  }
  const problems = values.flatMap((value) => cidrProblems('dashboardAllowedCidrs', value));
  for (const p of problems) context.addProblem(p);
  return problems.length === 0 ? values : undefined;
}
