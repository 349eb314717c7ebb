// The whole Convex backend as a service, on a VPC and cluster of your own stack (the README shows
// this file; `npm test` type-checks and synthesizes it, so the example cannot drift from the API).
import { CfnOutput, Stack, StackProps, aws_ec2 as ec2, aws_ecs as ecs, aws_route53 as route53 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexBackendService, ConvexStorage } from '../lib';

export class ConvexServiceStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Your network and cluster: public subnets for the load balancer, private ones with a NAT
    // gateway for the tasks (the image comes from ghcr.io).
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const storage = new ConvexStorage(this, 'Storage', { bucketNamePrefix: 'acme-convex-prod', instanceName: 'acme-prod' });

    // No lookup: the zone is named by its ID and name.
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'acme.example',
    });

    const convex = new ConvexBackendService(this, 'Convex', {
      storage,
      vpc,
      cluster,
      // api.convex.acme.example, site.convex.acme.example, dashboard.convex.acme.example
      domainName: 'convex.acme.example',
      hostedZone,
      dashboard: true,
      dashboardAllowedCidrs: ['203.0.113.0/24'],
      alarmEmail: 'ops@acme.example',
    });

    // CONVEX_SELF_HOSTED_URL for `npx convex deploy`. The service is connectable: a database of
    // yours lets it in with db.connections.allowDefaultPortFrom(convex).
    new CfnOutput(this, 'ConvexUrl', { value: convex.apiUrl });
  }
}
