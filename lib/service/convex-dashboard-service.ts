import { Duration, Stack, Validations, aws_ec2 as ec2, aws_ecs as ecs, aws_iam as iam, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { NEXT_PUBLIC_DEPLOYMENT_URL } from '../backend-env';
import { DASHBOARD_PORT } from '../ecs/convex-backend-task-definition';
import { DASHBOARD_IMAGE_REPOSITORY, imageReference } from '../ecs/images';
import { ManagedPolicyRole } from '../iam/managed-policy-role';

/** The uid the dashboard image runs as (`USER nextjs` in upstream's self-hosted/docker-build/Dockerfile.dashboard). */
export const DASHBOARD_IMAGE_USER = '1001';
/** Memory of the dashboard's task and its container's hard limit. */
const DASHBOARD_MEMORY_MIB = 512;

/** Properties of {@link ConvexDashboardService}. */
export interface ConvexDashboardServiceProps {
  /** The cluster the dashboard runs on (the backend's). */
  readonly cluster: ecs.ICluster;
  /** The dashboard image's tag or digest: the backend's version. */
  readonly imageTag: string;
  /** `NEXT_PUBLIC_DEPLOYMENT_URL`: the backend's public API URL, which the browser talks to. */
  readonly deploymentUrl: string;
  /** Log group of the dashboard's container. */
  readonly logGroup: logs.ILogGroup;

  /**
   * Subnets of the dashboard's task.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * CPU architecture of the task; the dashboard image is published for both.
   *
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
}

/**
 * The Convex dashboard (`ghcr.io/get-convex/convex-dashboard`, port 6791) as a Fargate service of
 * its own. Its task role holds no permission at all: the dashboard is a web app whose browser
 * code talks to the backend's public API with the admin key the user types in, so it needs no
 * AWS access, and a compromise of it reaches none of the backend's storage.
 */
export class ConvexDashboardService extends Construct {
  /** The dashboard's task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The dashboard's container. */
  public readonly container: ecs.ContainerDefinition;
  /** The role the dashboard runs with: no policies. */
  public readonly taskRole: iam.IRole;
  /** The Fargate service. */
  public readonly service: ecs.FargateService;

  constructor(scope: Construct, id: string, props: ConvexDashboardServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const sourceAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };
    this.taskRole = new ManagedPolicyRole(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: { ...sourceAccount, ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:*` } },
      }),
      description: 'Runs the Convex dashboard: no AWS access (it talks to the backend\'s public API with an admin key)',
    });
    const executionRole = new ManagedPolicyRole(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', { conditions: sourceAccount }),
      description: 'Starts the Convex dashboard task: writes its logs',
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: 256,
      memoryLimitMiB: DASHBOARD_MEMORY_MIB,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
      executionRole,
    });
    Validations.of(this.taskDefinition).acknowledge({ id: 'AwsSolutions-ECS2', reason: 'The only environment variable is NEXT_PUBLIC_DEPLOYMENT_URL, the backend\'s public API URL, which the dashboard hands to every browser that opens it (and which is a stack output). The dashboard has no secret: the user types the admin key into the browser.' });
    this.container = this.taskDefinition.addContainer('Dashboard', {
      containerName: 'convex-dashboard',
      image: ecs.ContainerImage.fromRegistry(imageReference(DASHBOARD_IMAGE_REPOSITORY, props.imageTag)),
      essential: true,
      // The image's own user (`nextjs`, uid 1001 in upstream's Dockerfile.dashboard): not root.
      user: DASHBOARD_IMAGE_USER,
      // A hard limit: the task's whole memory, so the container cannot grow past it unseen.
      memoryLimitMiB: DASHBOARD_MEMORY_MIB,
      environment: { [NEXT_PUBLIC_DEPLOYMENT_URL]: props.deploymentUrl },
      portMappings: [{ name: 'dashboard', containerPort: DASHBOARD_PORT, protocol: ecs.Protocol.TCP, appProtocol: ecs.AppProtocol.http }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: 'dashboard' }),
      stopTimeout: Duration.seconds(10),
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: false,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
  }
}
