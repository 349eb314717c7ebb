/**
 * The service's context keys: each read into the service's settings, each bad value rejected with
 * a message that names the key and the fix, all problems in one error.
 */
import { readAppConfig } from '../../lib/app/app-config';
import { cidrProblems, hostNameProblems } from '../../lib/service/service-endpoints';
import { unitTestApp } from '../helpers/cdk-app';

const ZONE = { hostedZoneId: 'Z0123456789ABC', hostedZoneName: 'example.com' };

function config(context: Record<string, unknown>) {
  return readAppConfig(unitTestApp(context));
}

function errorOf(context: Record<string, unknown>): string {
  try {
    config(context);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

test('service=true implies the task definition; every key is read', () => {
  const { backend, service } = config({
    service: 'true', domainName: 'convex.example.com', ...ZONE, siteOnApiHost: 'true', dashboard: 'true',
    dashboardAllowedCidrs: '203.0.113.0/24, 2001:db8::/48', waf: 'false', alarmEmail: 'ops@example.com', deletionProtection: 'false',
  });
  expect(backend).toBeDefined();
  expect(backend!.dashboard).toBe(true);
  expect(service).toEqual({
    domainName: 'convex.example.com', apiHost: undefined, siteHost: undefined, dashboardHost: undefined, siteOnApiHost: true,
    hostedZoneId: 'Z0123456789ABC', hostedZoneName: 'example.com', certificateArn: undefined,
    dashboardAllowedCidrs: ['203.0.113.0/24', '2001:db8::/48'], publicDashboard: undefined, waf: false, alarmEmail: 'ops@example.com',
    deletionProtection: false,
  });
});

test('ecs=true alone still gives only the task definition', () => {
  const { backend, service } = config({ ecs: 'true' });
  expect(backend).toBeDefined();
  expect(service).toBeUndefined();
});

test('cdk.json types work too: booleans and a list of CIDRs', () => {
  const { service } = config({ service: true, dashboard: true, publicDashboard: true, waf: true });
  expect(service).toMatchObject({ publicDashboard: true, waf: true });
  expect(config({ service: true, dashboard: true, dashboardAllowedCidrs: ['198.51.100.7/32'] }).service!.dashboardAllowedCidrs).toEqual(['198.51.100.7/32']);
});

test('service keys without service=true are refused by name', () => {
  const message = errorOf({ domainName: 'convex.example.com', waf: 'false' });
  expect(message).toContain('domainName: only applies with service=true; add -c service=true or drop domainName.');
  expect(message).toContain('waf: only applies with service=true');
});

test('every bad value is reported in one error, each naming its key and the fix', () => {
  const message = errorOf({
    service: 'true', domainName: 'https://convex.example.com', hostedZoneId: 'zone-1', hostedZoneName: 'example.com',
    certificateArn: 'arn:aws:acm:eu-west-1:123:cert', dashboard: 'true', dashboardAllowedCidrs: '203.0.113.5/24,10.0.0.0/33,nope',
    alarmEmail: 'ops', waf: 'off', deletionProtection: 'no', cloudOrigin: 'https://api.convex.example.com',
  });
  for (const expected of [
    "domainName: domainName 'https://convex.example.com' must be a host name without scheme",
    "hostedZoneId: 'zone-1' is not valid; expected a Route 53 hosted zone ID",
    "certificateArn: 'arn:aws:acm:eu-west-1:123:cert' is not valid; expected an ACM certificate ARN",
    "dashboardAllowedCidrs: '203.0.113.5/24' has host bits set; the network is 203.0.113.0/24.",
    "dashboardAllowedCidrs: '10.0.0.0/33' is not a CIDR block",
    "dashboardAllowedCidrs: 'nope' is not a CIDR block",
    "alarmEmail: 'ops' is not an e-mail address",
    "waf: 'off' is not valid; accepted values are 'true', 'false'.",
    "deletionProtection: 'no' is not valid",
    'cloudOrigin: with service=true the origins are derived from the host names',
  ]) {
    expect(message).toContain(expected);
  }
});

test('the zone is named by both its ID and its name, and holds every host', () => {
  expect(errorOf({ service: 'true', domainName: 'convex.example.com', hostedZoneId: 'Z0123456789ABC' }))
    .toContain('hostedZoneId: needs hostedZoneName too');
  expect(errorOf({ service: 'true', domainName: 'convex.example.org', ...ZONE }))
    .toContain("hostedZoneName: the host 'api.convex.example.org' is not in the zone 'example.com'");
});

test('hosts need a certificate, and a zone or certificate needs hosts', () => {
  expect(errorOf({ service: 'true', domainName: 'convex.example.com' })).toContain('host names need a certificate: set hostedZoneId and hostedZoneName');
  expect(errorOf({ service: 'true', ...ZONE })).toContain('domainName: hostedZoneId/certificateArn need host names');
  expect(errorOf({ service: 'true', apiHost: 'api.example.com', ...ZONE })).toContain('siteHost: not known; set domainName, siteHost, or siteOnApiHost=true.');
  expect(config({ service: 'true', apiHost: 'api.example.com', siteOnApiHost: 'true', ...ZONE }).service!.apiHost).toBe('api.example.com');
});

test('the dashboard keys need dashboard=true, and public and allow-listed exclude each other', () => {
  expect(errorOf({ service: 'true', dashboardAllowedCidrs: '203.0.113.0/24' })).toContain('dashboardAllowedCidrs: only applies with dashboard=true');
  expect(errorOf({ service: 'true', dashboard: 'true', publicDashboard: 'true', dashboardAllowedCidrs: '203.0.113.0/24' }))
    .toContain('publicDashboard: a public dashboard is routed from anywhere');
  expect(errorOf({ service: 'true', siteOnApiHost: 'true', siteHost: 'site.example.com', ...ZONE, domainName: 'example.com' }))
    .toContain('siteHost: siteOnApiHost serves the HTTP actions on the API host');
});

test('host names and CIDRs: what is accepted and what is not', () => {
  expect(hostNameProblems('h', 'api.convex.example.com')).toEqual([]);
  expect(hostNameProblems('h', 'API.example.com')).toHaveLength(1);
  expect(hostNameProblems('h', 'localhost')).toHaveLength(1);
  expect(hostNameProblems('h', 'api.example.com:443')).toHaveLength(1);
  expect(hostNameProblems('h', '-api.example.com')).toHaveLength(1);
  expect(cidrProblems('c', '0.0.0.0/0')).toEqual([]);
  expect(cidrProblems('c', '203.0.113.7/32')).toEqual([]);
  expect(cidrProblems('c', '2001:db8::/32')).toEqual([]);
  expect(cidrProblems('c', '203.0.113.7')).toHaveLength(1);
  expect(cidrProblems('c', '256.0.0.0/8')).toHaveLength(1);
  expect(cidrProblems('c', '2001:db8:::/32')).toHaveLength(1);
});
