/**
 * The deployable app with `service=true`, synthesized as `cdk synth` does it (cdk-nag's four packs
 * and the built-in CloudFormation validation), once per variant; and the README example.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexServiceStack } from '../../examples/service-on-your-cluster';
import { buildConvexStorageApp } from '../../lib/app/build-app';
import { SynthesizedApp, acknowledgmentsUnder, synthesizeApp, unitTestApp } from '../helpers/cdk-app';

const VARIANTS: Record<string, Record<string, unknown>> = {
  // The one-deploy command of the README, with KMS, the dashboard and alarm e-mails.
  service: {
    service: 'true', domainName: 'convex.example.com', hostedZoneId: 'Z0123456789ABC', hostedZoneName: 'example.com', encryption: 'kms',
    dashboard: 'true', dashboardAllowedCidrs: '203.0.113.0/24', alarmEmail: 'ops@example.com',
  },
  // A throw-away trial: no domain (plain HTTP), public dashboard, everything deleted with the stack.
  trial: { service: 'true', dashboard: 'true', publicDashboard: 'true', deletionProtection: 'false', removalPolicy: 'destroy' },
};

const EXPECTED_WARNINGS: Record<string, string[]> = {
  service: [],
  trial: ['cdk-convex-storage:service-plain-http', 'cdk-convex-storage:public-dashboard'],
};

const synthesized = new Map<string, SynthesizedApp>();
function variant(name: string): SynthesizedApp {
  if (!synthesized.has(name)) synthesized.set(name, synthesizeApp(VARIANTS[name]));
  return synthesized.get(name)!;
}

function findings(app: SynthesizedApp): string[] {
  return app.validationReport.pluginReports.flatMap((report) => report.violations ?? []).map((v) => String(v.ruleName));
}

describe.each(Object.keys(VARIANTS))('the %s app', (name) => {
  test('has no cdk-nag or CloudFormation validation finding; only the expected warnings', () => {
    // Fidelity's plain-http origin warning may join the trial's own warning.
    const unexpected = findings(variant(name)).filter((f) => !EXPECTED_WARNINGS[name].includes(f.replace(/^Annotation::/, '')) && !/http-origin/.test(f));
    expect(unexpected).toEqual([]);
  });

  test('every acknowledgment under the service has a reason', () => {
    for (const { reason } of acknowledgmentsUnder(variant(name).stack.node.findChild('Backend'))) {
      expect(reason.trim().length).toBeGreaterThan(80);
    }
  });
});

test('the outputs: the URLs for clients, the dashboard and npx convex deploy, and the backend\'s for the CLI', () => {
  const outputs = variant('service').templateJson.Outputs as Record<string, { Value: unknown }>;
  expect(outputs.ApiUrl.Value).toBe('https://api.convex.example.com');
  expect(outputs.SiteUrl.Value).toBe('https://site.convex.example.com');
  expect(outputs.DashboardUrl.Value).toBe('https://dashboard.convex.example.com');
  expect(outputs.ConvexSelfHostedUrl.Value).toBe('https://api.convex.example.com');
  expect(Object.keys(outputs)).toEqual(expect.arrayContaining([
    'BackendInstanceSecretArn', 'BackendTaskRoleArn', 'BackendLogGroupName', 'LoadBalancerDnsName', 'BackendServiceName', 'AlarmTopicArn',
  ]));
  // The task holds the storage access: no stand-alone backend role.
  expect(outputs.BackendRoleArn).toBeUndefined();
});

test('turning service=true on for an ecs=true stack keeps the data volume, the secret, the log group and the VPC', () => {
  // The service has the construct paths of ConvexBackend: the logical IDs of the data resources stay.
  const dataResources = (context: Record<string, unknown>) => {
    const { Resources } = Template.fromStack(buildConvexStorageApp(unitTestApp(context)).stack).toJSON() as { Resources: Record<string, { Type: string }> };
    return Object.entries(Resources)
      .filter(([, r]) => ['AWS::EFS::FileSystem', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::EC2::VPC', 'AWS::S3::Bucket', 'AWS::KMS::Key'].includes(r.Type))
      .map(([id, r]) => `${r.Type} ${id}`);
  };
  const before = dataResources({ ecs: 'true', encryption: 'kms', dashboard: 'true' });
  expect(before.length).toBeGreaterThanOrEqual(10);
  expect(dataResources({ service: 'true', encryption: 'kms', dashboard: 'true', dashboardAllowedCidrs: '203.0.113.0/24' })).toEqual(expect.arrayContaining(before));
});

test('the README example: the service on a VPC and cluster of your own stack', () => {
  const stack = new ConvexServiceStack(unitTestApp(), 'ConvexServiceStack');
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::EC2::VPC', 1);
  template.resourceCountIs('AWS::ECS::Cluster', 1);
  template.resourceCountIs('AWS::ECS::Service', 2);
  template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1, DeploymentConfiguration: { MaximumPercent: 100, MinimumHealthyPercent: 0 } });
  template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'dashboard.convex.acme.example.' });
});
