/**
 * The deployable app with `service=true`: the shared variants `service` and `service-trial`
 * (test/helpers/variants.ts), the logical IDs kept from `ecs=true`, and the README example.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexServiceStack } from '../../examples/service-on-your-cluster';
import { buildConvexStorageApp } from '../../lib/app/build-app';
import { unitTestApp } from '../helpers/cdk-app';
import { synthesizedVariant } from '../helpers/variants';

test('the service variants synthesize with their outputs (cdk-nag, validation and Control Tower: test/app/variants.test.ts, test/security)', () => {
  expect(synthesizedVariant('service').findings).toEqual([]);
  expect(synthesizedVariant('service-trial').templateJson.Outputs.ApiUrl).toBeDefined();
});

test('the outputs: the URLs for clients, the dashboard and npx convex deploy, and the backend\'s for the CLI', () => {
  const outputs = synthesizedVariant('service').templateJson.Outputs as Record<string, { Value: unknown }>;
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

test('with SQLite, BackendSecurityGroupId is the tasks\' group, which the data volume lets in on NFS', () => {
  const { templateJson } = synthesizedVariant('service-trial');
  const group = templateJson.Outputs.BackendSecurityGroupId.Value;
  expect(group['Fn::GetAtt'][0]).toMatch(/^BackendBackendSecurityGroup/);
  const nfs = Object.values(templateJson.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.FromPort === 2049);
  expect(nfs.map((r) => r.Properties.SourceSecurityGroupId)).toContainEqual(group);
});
