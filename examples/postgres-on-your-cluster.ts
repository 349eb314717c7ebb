// The Convex backend on your own cluster with its own RDS for PostgreSQL database (the README
// shows this file; `npm test` type-checks and synthesizes it, so the example cannot drift).
import { Stack, StackProps, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexBackendTaskDefinition, ConvexPostgres, ConvexStorage, StorageEncryption } from '../lib';

export class ConvexWithPostgresStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Your existing network (private subnets for the tasks, isolated ones for the database).
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
      isolatedSubnetIds: ['subnet-0cccccccccccccccc', 'subnet-0dddddddddddddddd'],
    });
    const cluster = ecs.Cluster.fromClusterAttributes(this, 'Cluster', { clusterName: 'apps', vpc });

    // INSTANCE_NAME names the database too (acme_prod). Never change it.
    const storage = new ConvexStorage(this, 'Storage', {
      bucketNamePrefix: 'acme-convex-prod',
      encryption: StorageEncryption.KMS,
      instanceName: 'acme-prod',
    });

    // The tasks' security group: the only peer the database lets in.
    const tasks = new ec2.SecurityGroup(this, 'Tasks', { vpc, description: 'Convex backend tasks' });
    const database = new ConvexPostgres(this, 'Database', {
      vpc,
      backendConnections: tasks,
      instanceName: 'acme-prod',
      encryptionKey: storage.encryptionKey,
      multiAz: true,
    });

    // The task builds POSTGRES_URL from the database's secret at start and verifies its TLS
    // certificate against the RDS CAs of this stack's region (PG_CA_FILE).
    const backend = new ConvexBackendTaskDefinition(this, 'Backend', {
      storage,
      database,
      cloudOrigin: 'https://api.convex.acme.example',
      siteOrigin: 'https://site.convex.acme.example',
    });

    new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: backend.taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [tasks],
    });
  }
}
