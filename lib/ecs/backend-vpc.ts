import { Annotations, RemovalPolicy, Stack, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { ConvexLogGroup } from './log-group';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import type { ConvexBackendStorage } from './convex-backend-task-definition-props';
import { s3GatewayEndpointPolicyStatements } from './s3-endpoint-policy';

/** Properties of {@link ConvexBackendVpc}. */
export interface ConvexBackendVpcProps {
  /**
   * Key of the flow log group.
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly flowLogEncryptionKey?: kms.IKey;

  /**
   * Retention of the flow logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;

  /**
   * Add isolated subnets (no route out of the VPC) for a database, e.g. a `ConvexPostgres`. They
   * come after the existing subnet groups, so adding them later leaves the other subnets' address
   * ranges as they are.
   *
   * @default false
   */
  readonly databaseSubnets?: boolean;

  /**
   * What happens to the flow logs when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A small VPC for the backend when you have none: two Availability Zones, private subnets for
 * the tasks and the data volume's mount targets, one NAT gateway for the image pull from ghcr.io
 * and the backend's calls to its public origin, an S3 gateway endpoint (S3 traffic stays off the
 * NAT gateway; its policy admits only buckets of this account and ECR's image layers), and flow
 * logs of all traffic. Public subnets hold only the NAT gateway and assign no public IPs. With `databaseSubnets`, isolated subnets for the database
 * as well.
 */
export class ConvexBackendVpc extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;

  /**
   * The S3 gateway endpoint every S3 request from the VPC goes through; the backend's storage
   * denies its task role any request that does not (`aws:SourceVpce`).
   */
  public readonly s3Endpoint: ec2.GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: ConvexBackendVpcProps = {}) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        // Last, so the groups above keep their address ranges when it is added.
        ...(props.databaseSubnets ? [{ name: 'Database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }] : []),
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      // Closing the default security group needs a Lambda-backed custom resource; no interface
      // here is a member of that group (see the acknowledgment below).
      restrictDefaultSecurityGroup: false,
    });
    this.s3Endpoint = this.vpc.node.findChild('S3') as ec2.GatewayVpcEndpoint;
    for (const statement of s3GatewayEndpointPolicyStatements(Stack.of(this))) {
      this.s3Endpoint.addToPolicy(statement);
    }
    const cfnVpc = this.vpc.node.defaultChild as ec2.CfnVPC;
    acknowledgeComplianceRule(cfnVpc, 'VPCDefaultSecurityGroupClosed', 'No network interface in this VPC is attached to its default security group: the data volume\'s mount targets and the backend\'s tasks get groups of their own, and the NAT gateway and the S3 gateway endpoint take no security group at all. A group with no members admits nothing. Closing its rules needs a Lambda-backed custom resource (with its own role, runtime and logging findings) for no reduction in exposure.');
    for (const subnet of this.vpc.publicSubnets) {
      acknowledgeComplianceRule(subnet, 'VPCNoUnrestrictedRouteToIGW', 'The public subnets hold only the NAT gateway, which needs a default route to the internet gateway to pull the backend image from ghcr.io and to reach the backend\'s public origin. They assign no public IPs; the backend and its data volume live in the private subnets, whose default route is the NAT gateway.');
    }

    const flowLogs = new ConvexLogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.flowLogEncryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      purpose: 'VPC flow logs hold connection metadata (addresses, ports, byte counts), no payloads.',
    });
    const stack = Stack.of(this);
    const flowLogRole = new ManagedPolicyRole(this, 'FlowLogRole', {
      // Confused-deputy protection: the flow-log service passes the flow log's account and ARN,
      // so only flow logs of this account and region can use the role.
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:vpc-flow-log/*` },
        },
      }),
      description: 'Delivers the flow logs of the Convex backend VPC to CloudWatch Logs',
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs.logGroup, flowLogRole),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }

  /**
   * Confines `principal` (the role of the backend tasks that run in this VPC) to this VPC: the
   * storage denies it every request that does not come through {@link s3Endpoint}, so a leaked
   * task-role credential stops working anywhere else. Storage in another stack, or without
   * `restrictBackendToVpcEndpoints`, is left as it is, with a warning (naming the role in its
   * bucket policies would make the two stacks depend on each other).
   */
  public confineStorageAccess(storage: ConvexBackendStorage, principal: iam.IRole): void {
    const sameStack = Construct.isConstruct(storage) && Stack.of(storage) === Stack.of(this);
    if (storage.restrictBackendToVpcEndpoints && sameStack) {
      storage.restrictBackendToVpcEndpoints(principal, [this.s3Endpoint.vpcEndpointId]);
      return;
    }
    Annotations.of(this).addWarningV2('cdk-convex-storage:storage-not-restricted', `The backend's storage ${sameStack ? 'has no restrictBackendToVpcEndpoints method' : 'is not in the stack of its VPC'}, so the task role's storage access works from any network. Restrict it in the buckets' policies: deny the task role (aws:PrincipalArn) every request whose aws:SourceVpce is not this VPC's S3 endpoint (output BackendS3EndpointId), e.g. with ConvexStorage's backendVpcEndpointIds.`);
  }
}
