// Running the Convex backend on a cluster you already have (the README shows this file;
// `npm test` type-checks and synthesizes it, so the example cannot drift from the API).
import { Stack, StackProps, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexBackendTaskDefinition, ConvexStorage, StorageEncryption } from '../lib';

export class ConvexOnMyClusterStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Your existing network and cluster (fromLookup works too, with an account and region).
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    });
    const cluster = ecs.Cluster.fromClusterAttributes(this, 'Cluster', { clusterName: 'apps', vpc });

    // INSTANCE_NAME narrows the S3 access policy to the backend's key prefix. Never change it.
    const storage = new ConvexStorage(this, 'Storage', {
      bucketNamePrefix: 'acme-convex-prod',
      encryption: StorageEncryption.KMS,
      instanceName: 'acme-prod',
    });

    const backend = new ConvexBackendTaskDefinition(this, 'Backend', {
      storage,
      cloudOrigin: 'https://api.convex.acme.example',
      siteOrigin: 'https://site.convex.acme.example',
      // No database URL secret: SQLite on an encrypted EFS volume in this VPC.
      vpc,
      disableBeacon: true,
      dashboard: true,
    });

    // One task at a time: the backend is a single writer, two must never share its data.
    new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: backend.taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      // This group may reach the data volume; add your load balancer's rules to it.
      securityGroups: [backend.dataVolume!.clientSecurityGroup],
    });
  }
}
