/**
 * The ConvexBackendService, field by field (unit-test apps: no cdk-nag, no CloudFormation
 * validation; test/service/app.test.ts synthesizes the app variants once).
 */
import { Stack, aws_certificatemanager as acm, aws_route53 as route53 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import {
  ConvexBackendService, ConvexBackendServiceProps, ConvexStorage, LOAD_BALANCER_SSL_POLICY, SERVICE_ALARMS, WEB_ACL_MANAGED_RULE_GROUPS,
} from '../../lib';
import { unitTestStack } from '../helpers/cdk-app';

interface Built {
  readonly stack: Stack;
  readonly service: ConvexBackendService;
  readonly template: Template;
  readonly json: Record<string, any>;
}

function build(props: (stack: Stack) => Partial<ConvexBackendServiceProps> = () => ({})): Built {
  const stack = unitTestStack();
  const storage = new ConvexStorage(stack, 'Storage');
  const service = new ConvexBackendService(stack, 'Backend', { storage, ...props(stack) });
  const template = Template.fromStack(stack);
  return { stack, service, template, json: template.toJSON() };
}

const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' });

const CIDRS = ['203.0.113.0/24', '198.51.100.7/32', '2001:db8::/48', '192.0.2.0/24', '100.64.0.0/10'];

/** The full service: a domain in a hosted zone, the dashboard from five CIDRs, alarm e-mails. */
const FULL = (stack: Stack): Partial<ConvexBackendServiceProps> => ({
  domainName: 'convex.example.com',
  hostedZone: zone(stack),
  dashboard: true,
  dashboardAllowedCidrs: CIDRS,
  alarmEmail: 'ops@example.com',
});

let full: Built;
beforeAll(() => {
  full = build(FULL);
});

function resources(built: Built, type: string): Array<[string, Record<string, any>]> {
  return Object.entries(built.json.Resources as Record<string, Record<string, any>>).filter(([, r]) => r.Type === type);
}

function one(built: Built, type: string, where: (r: Record<string, any>) => boolean = () => true): [string, Record<string, any>] {
  const matches = resources(built, type).filter(([, r]) => where(r));
  expect(matches).toHaveLength(1);
  return matches[0];
}

function env(container: Record<string, any>): Record<string, string> {
  return Object.fromEntries((container.Environment ?? []).map((e: { Name: string; Value: string }) => [e.Name, e.Value]));
}

function backendContainer(built: Built): Record<string, any> {
  const [, td] = one(built, 'AWS::ECS::TaskDefinition', (r) => r.Properties.ContainerDefinitions[0].Name === 'convex-backend');
  return td.Properties.ContainerDefinitions[0];
}

/** Listener rules by priority: their conditions by field and their action. */
function rules(built: Built): Record<number, { conditions: Record<string, any>; action: Record<string, any> }> {
  return Object.fromEntries(resources(built, 'AWS::ElasticLoadBalancingV2::ListenerRule').map(([, r]) => [r.Properties.Priority, {
    conditions: Object.fromEntries(r.Properties.Conditions.map((c: Record<string, any>) => [c.Field, c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.SourceIpConfig?.Values])),
    action: r.Properties.Actions[0],
  }]));
}

function targetGroupOfPort(built: Built, port: number): string {
  return one(built, 'AWS::ElasticLoadBalancingV2::TargetGroup', (r) => r.Properties.Port === port)[0];
}

describe('one backend, always', () => {
  test('one task; a deployment stops the old task before starting the new one; circuit breaker with rollback; long grace period', () => {
    const taskDefinition = full.stack.resolve(full.service.backend.taskDefinition.taskDefinitionArn);
    const [, service] = one(full, 'AWS::ECS::Service', (r) => JSON.stringify(r.Properties.TaskDefinition) === JSON.stringify(taskDefinition));
    expect(service.Properties).toMatchObject({
      DesiredCount: 1,
      DeploymentConfiguration: { MaximumPercent: 100, MinimumHealthyPercent: 0, DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
      HealthCheckGracePeriodSeconds: 600,
      LaunchType: 'FARGATE',
    });
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    // Private subnets of the VPC made for it.
    const privateSubnets = resources(full, 'AWS::EC2::Subnet').filter(([, s]) => s.Properties.Tags.some((t: any) => t.Value === 'Private')).map(([id]) => id);
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets.map((s: any) => s.Ref).sort()).toEqual(privateSubnets.sort());
  });

  test('the container health check gives first-boot migrations the longest start period ECS allows', () => {
    expect(backendContainer(full).HealthCheck.StartPeriod).toBe(300);
  });

  test('the tasks accept traffic only from the load balancer, on the two backend ports', () => {
    const group = full.stack.resolve(full.service.securityGroup.securityGroupId);
    const ingress = resources(full, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(group));
    const albGroup = full.stack.resolve(full.service.loadBalancer.securityGroup.securityGroupId);
    expect(ingress.map(([, r]) => [r.Properties.FromPort, r.Properties.SourceSecurityGroupId]).sort()).toEqual([[3210, albGroup], [3211, albGroup]]);
    // And no inline rule opens it to anything else.
    const [, sg] = one(full, 'AWS::EC2::SecurityGroup', (r) => r.Properties.GroupDescription.startsWith('Convex backend tasks'));
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('the data volume admits the service', () => {
    const group = full.stack.resolve(full.service.securityGroup.securityGroupId);
    const nfs = resources(full, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => r.Properties.FromPort === 2049);
    expect(nfs.map(([, r]) => r.Properties.SourceSecurityGroupId)).toContainEqual(group);
  });
});

describe('the load balancer', () => {
  test('internet-facing in the public subnets; invalid headers dropped, idle timeout for WebSockets and long requests, deletion protection, access logs', () => {
    const [, alb] = one(full, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(alb.Properties.Scheme).toBe('internet-facing');
    const attributes = Object.fromEntries(alb.Properties.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
    expect(attributes).toMatchObject({
      'deletion_protection.enabled': 'true',
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'idle_timeout.timeout_seconds': '300',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.prefix': 'load-balancer',
    });
    expect(attributes['access_logs.s3.bucket']).toEqual(full.stack.resolve(full.service.loadBalancer.logsBucket.bucket.bucketName));
  });

  test('the log bucket is SSE-S3 (all ELB supports), private, versioned, logged, and lets only ELB log delivery write under its prefix', () => {
    const bucketId = full.stack.resolve(full.service.loadBalancer.logsBucket.bucket.bucketName).Ref;
    const bucket = full.json.Resources[bucketId];
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.Properties.VersioningConfiguration.Status).toBe('Enabled');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toBeDefined();
    const [, policy] = one(full, 'AWS::S3::BucketPolicy', (r) => r.Properties.Bucket.Ref === bucketId);
    const allow = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0].Principal).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    expect(allow[0].Action).toBe('s3:PutObject');
    expect(JSON.stringify(allow[0].Resource)).toContain('/load-balancer/AWSLogs/');
  });

  test('HTTPS on 443 with the TLS 1.3 policy and the certificate; port 80 only redirects to HTTPS', () => {
    const [, https] = one(full, 'AWS::ElasticLoadBalancingV2::Listener', (r) => r.Properties.Port === 443);
    expect(https.Properties.Protocol).toBe('HTTPS');
    expect(https.Properties.SslPolicy).toBe(LOAD_BALANCER_SSL_POLICY);
    expect(LOAD_BALANCER_SSL_POLICY).toMatch(/^ELBSecurityPolicy-TLS13-/);
    expect(https.Properties.Certificates).toEqual([{ CertificateArn: full.stack.resolve(full.service.certificate!.certificateArn) }]);
    expect(https.Properties.DefaultActions[0]).toMatchObject({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } });
    const [, http] = one(full, 'AWS::ElasticLoadBalancingV2::Listener', (r) => r.Properties.Port === 80);
    expect(http.Properties.DefaultActions).toEqual([{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }]);
  });

  test('one rule per host, /metrics refused first, the dashboard only from its CIDRs (at most 4 per rule)', () => {
    const byPriority = rules(full);
    expect(Object.keys(byPriority).map(Number)).toEqual([10, 20, 30, 40, 41]);
    expect(byPriority[10].conditions).toEqual({ 'host-header': ['api.convex.example.com'], 'path-pattern': ['/metrics', '/metrics/*'] });
    expect(byPriority[10].action).toMatchObject({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } });
    expect(byPriority[20].conditions).toEqual({ 'host-header': ['api.convex.example.com'] });
    expect(byPriority[20].action.TargetGroupArn.Ref).toBe(targetGroupOfPort(full, 3210));
    expect(byPriority[30].conditions).toEqual({ 'host-header': ['site.convex.example.com'] });
    expect(byPriority[30].action.TargetGroupArn.Ref).toBe(targetGroupOfPort(full, 3211));
    expect(byPriority[40].conditions).toEqual({ 'host-header': ['dashboard.convex.example.com'], 'source-ip': CIDRS.slice(0, 4) });
    expect(byPriority[41].conditions).toEqual({ 'host-header': ['dashboard.convex.example.com'], 'source-ip': CIDRS.slice(4) });
    for (const p of [40, 41]) expect(byPriority[p].action.TargetGroupArn.Ref).toBe(targetGroupOfPort(full, 6791));
  });

  test('both backend target groups check /version on the API port (the site port answers 404 on /)', () => {
    const api = full.json.Resources[targetGroupOfPort(full, 3210)].Properties;
    const site = full.json.Resources[targetGroupOfPort(full, 3211)].Properties;
    expect(api).toMatchObject({ TargetType: 'ip', HealthCheckPath: '/version', HealthCheckPort: 'traffic-port', Matcher: { HttpCode: '200' } });
    expect(site).toMatchObject({ TargetType: 'ip', HealthCheckPath: '/version', HealthCheckPort: '3210', Matcher: { HttpCode: '200' } });
  });
});

describe('certificate and DNS', () => {
  test('a DNS-validated certificate for every served host, validated in the hosted zone', () => {
    const [, certificate] = one(full, 'AWS::CertificateManager::Certificate');
    expect(certificate.Properties).toMatchObject({
      DomainName: 'api.convex.example.com',
      SubjectAlternativeNames: ['site.convex.example.com', 'dashboard.convex.example.com'],
      ValidationMethod: 'DNS',
      DomainValidationOptions: expect.arrayContaining([{ DomainName: 'api.convex.example.com', HostedZoneId: 'Z0123456789ABC' }]),
    });
  });

  test('an alias record per host, pointing at the load balancer', () => {
    const records = resources(full, 'AWS::Route53::RecordSet');
    expect(records.map(([, r]) => r.Properties.Name).sort()).toEqual(['api.convex.example.com.', 'dashboard.convex.example.com.', 'site.convex.example.com.']);
    const albId = one(full, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0];
    for (const [, r] of records) {
      expect(r.Properties).toMatchObject({ Type: 'A', HostedZoneId: 'Z0123456789ABC' });
      expect(JSON.stringify(r.Properties.AliasTarget.DNSName)).toContain(albId);
    }
  });

  test('a given certificate is used as is; without a zone there are no records', () => {
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666';
    const built = build((stack) => ({ apiHost: 'convex.example.org', siteHost: 'actions.example.org', certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', arn) }));
    built.template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    built.template.resourceCountIs('AWS::Route53::RecordSet', 0);
    const [, https] = one(built, 'AWS::ElasticLoadBalancingV2::Listener', (r) => r.Properties.Port === 443);
    expect(https.Properties.Certificates).toEqual([{ CertificateArn: arn }]);
  });
});

describe('origins come from the served hosts', () => {
  test('CONVEX_CLOUD_ORIGIN and CONVEX_SITE_ORIGIN are https:// plus the hosts of the API and site rules; the dashboard points at the API', () => {
    const byPriority = rules(full);
    const backendEnv = env(backendContainer(full));
    expect(backendEnv.CONVEX_CLOUD_ORIGIN).toBe(`https://${byPriority[20].conditions['host-header'][0]}`);
    expect(backendEnv.CONVEX_SITE_ORIGIN).toBe(`https://${byPriority[30].conditions['host-header'][0]}`);
    const [, dashboardTd] = one(full, 'AWS::ECS::TaskDefinition', (r) => r.Properties.ContainerDefinitions[0].Name === 'convex-dashboard');
    expect(env(dashboardTd.Properties.ContainerDefinitions[0]).NEXT_PUBLIC_DEPLOYMENT_URL).toBe(backendEnv.CONVEX_CLOUD_ORIGIN);
    expect(full.service.apiUrl).toBe(backendEnv.CONVEX_CLOUD_ORIGIN);
    expect(full.service.siteUrl).toBe(backendEnv.CONVEX_SITE_ORIGIN);
    expect(full.service.dashboardUrl).toBe(`https://${byPriority[40].conditions['host-header'][0]}`);
  });

  test('overridden hosts are served and become the origins', () => {
    const built = build((stack) => ({ domainName: 'convex.example.com', apiHost: 'backend.example.com', siteHost: 'hooks.example.com', hostedZone: zone(stack) }));
    const backendEnv = env(backendContainer(built));
    expect(backendEnv).toMatchObject({ CONVEX_CLOUD_ORIGIN: 'https://backend.example.com', CONVEX_SITE_ORIGIN: 'https://hooks.example.com' });
    expect(rules(built)[20].conditions['host-header']).toEqual(['backend.example.com']);
    expect(rules(built)[30].conditions['host-header']).toEqual(['hooks.example.com']);
  });

  test('without a domain: plain HTTP on the load balancer\'s DNS name, HTTP actions under /http, and a warning', () => {
    const built = build(() => ({}));
    const backendEnv = env(backendContainer(built));
    const dnsName = built.stack.resolve(built.service.loadBalancer.loadBalancer.loadBalancerDnsName);
    expect(built.stack.resolve(built.service.apiUrl)).toEqual({ 'Fn::Join': ['', ['http://', dnsName]] });
    expect(backendEnv.CONVEX_CLOUD_ORIGIN).toEqual({ 'Fn::Join': ['', ['http://', dnsName]] });
    expect(backendEnv.CONVEX_SITE_ORIGIN).toEqual({ 'Fn::Join': ['', ['http://', dnsName, '/http']] });
    resources(built, 'AWS::ElasticLoadBalancingV2::Listener').forEach(([, l]) => expect(l.Properties.Protocol).toBe('HTTP'));
    built.template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    Annotations.fromStack(built.stack).hasWarning('/Test/Backend', Match.stringLikeRegexp('plain HTTP.*for trials only'));
  });
});

describe('the dashboard', () => {
  test('its own service and task definition on the backend\'s version, with a role that holds nothing', () => {
    const [, dashboardTd] = one(full, 'AWS::ECS::TaskDefinition', (r) => r.Properties.ContainerDefinitions[0].Name === 'convex-dashboard');
    const dashboardImage = dashboardTd.Properties.ContainerDefinitions[0].Image as string;
    expect(dashboardImage.split(':')[0]).toBe('ghcr.io/get-convex/convex-dashboard');
    expect(dashboardImage.split(':')[1]).toBe((backendContainer(full).Image as string).split(':')[1]);
    // The backend task has no dashboard container any more.
    expect(resources(full, 'AWS::ECS::TaskDefinition').map(([, td]) => td.Properties.ContainerDefinitions.length)).toEqual([1, 1]);
    const roleId = dashboardTd.Properties.TaskRoleArn['Fn::GetAtt'][0];
    const role = full.json.Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const attached = [...resources(full, 'AWS::IAM::ManagedPolicy'), ...resources(full, 'AWS::IAM::Policy')]
      .filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId));
    expect(attached).toEqual([]);
  });

  test('not routed, and not run, without allowed CIDRs: a warning says how to reach it', () => {
    const built = build((stack) => ({ domainName: 'convex.example.com', hostedZone: zone(stack), dashboard: true }));
    expect(built.service.dashboard).toBeUndefined();
    expect(Object.keys(rules(built)).map(Number)).toEqual([10, 20, 30]);
    Annotations.fromStack(built.stack).hasWarning('/Test/Backend', Match.stringLikeRegexp('dashboardAllowedCidrs'));
  });

  test('publicDashboard routes it from anywhere, with a warning', () => {
    const built = build((stack) => ({ domainName: 'convex.example.com', hostedZone: zone(stack), dashboard: true, publicDashboard: true }));
    expect(rules(built)[40].conditions).toEqual({ 'host-header': ['dashboard.convex.example.com'] });
    Annotations.fromStack(built.stack).hasWarning('/Test/Backend', Match.stringLikeRegexp('relies on the admin key alone'));
  });
});

describe('the web application firewall', () => {
  test('rate limit and managed known-bad-input rules, none that limits body size, on the load balancer, logged', () => {
    const [, acl] = one(full, 'AWS::WAFv2::WebACL');
    const ruleNames = acl.Properties.Rules.map((r: any) => r.Name);
    expect(ruleNames).toEqual(['RateLimitPerIp', ...WEB_ACL_MANAGED_RULE_GROUPS.map((g) => g.name)]);
    expect(ruleNames).toContain('AWSManagedRulesKnownBadInputsRuleSet');
    expect(ruleNames).not.toContain('AWSManagedRulesCommonRuleSet');
    expect(acl.Properties.Rules[0].Statement.RateBasedStatement).toEqual({ Limit: 6000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 });
    expect(JSON.stringify(acl.Properties)).not.toContain('SizeConstraintStatement');
    const [, association] = one(full, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties.ResourceArn).toEqual({ Ref: one(full, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0] });
    const [, logging] = one(full, 'AWS::WAFv2::LoggingConfiguration');
    const logGroupId = logging.Properties.LogDestinationConfigs[0]['Fn::Join'][1].at(-1).Ref;
    expect(JSON.stringify(full.json.Resources[logGroupId].Properties.LogGroupName)).toContain('aws-waf-logs-convex-');
    expect(logging.Properties.LoggingFilter.DefaultBehavior).toBe('DROP');
  });

  test('waf=false leaves it out', () => {
    const built = build(() => ({ waf: false }));
    built.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    expect(built.service.webAcl).toBeUndefined();
  });
});

describe('alarms', () => {
  test('one alarm per definition, each notifying the e-mail topic on alarm and on recovery', () => {
    const alarms = resources(full, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(SERVICE_ALARMS.length);
    const metrics = Object.fromEntries(alarms.map(([, a]) => [a.Properties.MetricName, a.Properties]));
    expect(Object.keys(metrics).sort()).toEqual(['CPUUtilization', 'HTTPCode_Target_5XX_Count', 'MemoryUtilization', 'RunningTaskCount', 'UnHealthyHostCount']);
    expect(metrics.RunningTaskCount).toMatchObject({ Namespace: 'ECS/ContainerInsights', ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching' });
    expect(metrics.MemoryUtilization).toMatchObject({ Namespace: 'AWS/ECS', Threshold: 85 });
    const topic = full.stack.resolve(full.service.alarmTopic!.topicArn);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
    const [, subscription] = one(full, 'AWS::SNS::Subscription');
    expect(subscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
    const [, topicResource] = one(full, 'AWS::SNS::Topic');
    expect(topicResource.Properties.KmsMasterKeyId).toBeDefined();
  });

  test('the cluster made here has Container Insights, which the no-running-task alarm reads', () => {
    const [, cluster] = one(full, 'AWS::ECS::Cluster');
    expect(cluster.Properties.ClusterSettings).toEqual([{ Name: 'containerInsights', Value: 'enabled' }]);
  });
});

describe('with a managed database (postgres)', () => {
  test('the database is in isolated subnets, reachable only from the backend\'s security group; no data volume', () => {
    const built = build((stack) => ({ domainName: 'convex.example.com', hostedZone: zone(stack), postgres: {} }));
    expect(built.service.database).toBeDefined();
    built.template.resourceCountIs('AWS::EFS::FileSystem', 0);
    built.template.resourceCountIs('AWS::RDS::DBInstance', 1);
    const dbGroups = built.stack.resolve(built.service.database!.connections.securityGroups.map((g) => g.securityGroupId));
    const ingress = resources(built, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => dbGroups.some((g: unknown) => JSON.stringify(g) === JSON.stringify(r.Properties.GroupId)));
    expect(ingress.map(([, r]) => r.Properties.SourceSecurityGroupId)).toEqual([built.stack.resolve(built.service.securityGroup.securityGroupId)]);
    // The service runs with that group.
    const taskDefinition = built.stack.resolve(built.service.backend.taskDefinition.taskDefinitionArn);
    const [, service] = one(built, 'AWS::ECS::Service', (r) => JSON.stringify(r.Properties.TaskDefinition) === JSON.stringify(taskDefinition));
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups).toEqual([built.stack.resolve(built.service.securityGroup.securityGroupId)]);
  });
});

describe('siteOnApiHost: the one-domain layout', () => {
  test('HTTP actions under /http on the API host: no site host, rule, target group or certificate name', () => {
    const built = build((stack) => ({ domainName: 'convex.example.com', hostedZone: zone(stack), siteOnApiHost: true }));
    const backendEnv = env(backendContainer(built));
    expect(backendEnv).toMatchObject({ CONVEX_CLOUD_ORIGIN: 'https://api.convex.example.com', CONVEX_SITE_ORIGIN: 'https://api.convex.example.com/http' });
    expect(Object.keys(rules(built)).map(Number)).toEqual([10, 20]);
    expect(resources(built, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([, r]) => r.Properties.Port)).toEqual([3210]);
    const [, certificate] = one(built, 'AWS::CertificateManager::Certificate');
    expect(certificate.Properties.SubjectAlternativeNames).toBeUndefined();
    expect(resources(built, 'AWS::Route53::RecordSet').map(([, r]) => r.Properties.Name)).toEqual(['api.convex.example.com.']);
  });
});

describe('bad props fail at synth with every problem named', () => {
  test('one error lists them all', () => {
    const error = (() => {
      try {
        build((stack) => ({
          apiHost: 'API.example.com', siteHost: 'site.example.org', hostedZone: zone(stack), dashboardAllowedCidrs: ['10.0.0.1/8'], publicDashboard: true,
          alarmEmail: 'nobody', rateLimitPerFiveMinutes: 5, siteOnApiHost: true,
        }));
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected an error');
    })();
    for (const expected of [
      "dashboardAllowedCidrs: '10.0.0.1/8' has host bits set",
      'publicDashboard and dashboardAllowedCidrs are both set',
      'dashboardAllowedCidrs is set but dashboard is off',
      'siteHost and siteOnApiHost are both set',
      "alarmEmail: 'nobody' is not an e-mail address",
      'rateLimitPerFiveMinutes is 5',
      "apiHost 'API.example.com' is not a valid host name",
    ]) {
      expect(error).toContain(expected);
    }
  });

  test('the separate dashboard service checks its own image tag, as the task definition would', () => {
    expect(() => build((stack) => ({ ...FULL(stack), dashboard: true, publicDashboard: true, dashboardAllowedCidrs: undefined, dashboardImageTag: 'v1.2' }))).toThrow("dashboardImageTag 'v1.2'");
  });

  test('hosts outside the hosted zone, and hosts without a certificate, are refused', () => {
    expect(() => build((stack) => ({ domainName: 'convex.example.org', hostedZone: zone(stack) }))).toThrow("the host 'api.convex.example.org' is not in the hosted zone 'example.com'");
    expect(() => build(() => ({ domainName: 'convex.example.com' }))).toThrow('neither a hosted zone');
  });
});
