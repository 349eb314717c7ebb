import { RemovalPolicy, Stack, aws_ec2 as ec2, aws_efs as efs, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { describeRemovalPolicy, isKept, retainedWithDeletedKeyProblem } from './key-retention';

/** Where the backend keeps its SQLite database, local files and credentials. */
export const CONVEX_DATA_DIRECTORY = '/convex/data';

/**
 * The POSIX identity every NFS operation through the access point runs as. The backend image
 * runs as root; the access point maps it to this non-root owner of the data directory, so the
 * task needs no `elasticfilesystem:ClientRootAccess`.
 */
export const DATA_VOLUME_POSIX_USER = { uid: '1000', gid: '1000' } as const;

/** What a client granted by {@link ConvexDataVolume.grantReadWrite} may do: mount (read) and write, never root. */
const CLIENT_READ_WRITE_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'];
/** Only through a mount target in the VPC. */
const ACCESSED_VIA_MOUNT_TARGET = { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } };
/** The access point a client mounts through. */
const ACCESS_POINT_ARN_KEY = 'elasticfilesystem:AccessPointArn';

/** The rule aws-ec2 renders for a group without egress (it matches no traffic). */
const NO_EGRESS = { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 };

/** Properties of {@link ConvexDataVolume}. */
export interface ConvexDataVolumeProps {
  /** The VPC of the ECS service that runs the backend; mount targets go into it. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets of the mount targets: those of the service's tasks (one per Availability Zone).
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Key that encrypts the file system at rest. A key this stack would delete is rejected unless
   * the file system is deleted too (`removalPolicy: RemovalPolicy.DESTROY`): a kept database must
   * stay readable.
   *
   * @default - the AWS managed key `aws/elasticfilesystem`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the file system when it leaves the stack. It holds the backend's database:
   * keep the default for any deployment whose data matters.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A persistent, encrypted EFS volume for the backend's data directory: automatic daily backups,
 * retained on stack deletion, TLS and IAM authorization required on the mount, and one access
 * point that confines the task to its own directory as a non-root user. Its file system policy
 * allows no one until {@link grantReadWrite} names a principal (the task role), and denies
 * plain-text and root access to everyone.
 *
 * The backend is a single writer: run exactly one task against the volume at a time (SQLite
 * must never be opened by two backends).
 */
export class ConvexDataVolume extends Construct {
  /** The file system. Add your own AWS Backup plan selection to it if you need other schedules. */
  public readonly fileSystem: efs.FileSystem;

  /** The access point the task mounts. */
  public readonly accessPoint: efs.AccessPoint;

  /**
   * A security group to put on the ECS service that runs the backend: it may reach the mount
   * targets on NFS (2049). Or allow your own group with {@link allowClientsFrom}.
   */
  public readonly clientSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ConvexDataVolumeProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const problem = isKept(removalPolicy) ? retainedWithDeletedKeyProblem('the file system (the backend\'s SQLite database)', describeRemovalPolicy(props.removalPolicy), props.encryptionKey) : undefined;
    if (problem) throw new Error(`Invalid ConvexDataVolume properties at ${this.node.path}: ${problem}`);
    const fileSystemPolicy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'DenyWithoutTls',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['*'],
          conditions: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        new iam.PolicyStatement({
          sid: 'DenyRootAccess',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['elasticfilesystem:ClientRootAccess'],
        }),
      ],
    });
    this.fileSystem = new efs.FileSystem(this, 'FileSystem', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      encrypted: true,
      kmsKey: props.encryptionKey,
      enableAutomaticBackups: true,
      removalPolicy,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      // `true` only stops CDK from adding its own statement, which allows ClientWrite and
      // ClientRootAccess to any principal ({"AWS":"*"}) through a mount target. Anonymous clients
      // are still refused: once a file system policy exists, EFS lets a client in only if a policy
      // allows it, and this one allows nobody until grantReadWrite names a principal.
      allowAnonymousAccess: true,
      fileSystemPolicy,
    });
    acknowledgeComplianceRule(this.fileSystem, 'EFSInBackupPlan', 'Automatic backups are on: EFS enrolls the file system in its AWS Backup plan (daily backups kept 35 days in the aws/efs/automatic-backup-vault vault). cdk-nag only recognizes a BackupSelection resource; teams with other retention needs add a selection of this file system to their own AWS Backup plan.');

    this.accessPoint = this.fileSystem.addAccessPoint('AccessPoint', {
      path: '/convex-data',
      createAcl: { ownerUid: DATA_VOLUME_POSIX_USER.uid, ownerGid: DATA_VOLUME_POSIX_USER.gid, permissions: '750' },
      posixUser: { uid: DATA_VOLUME_POSIX_USER.uid, gid: DATA_VOLUME_POSIX_USER.gid },
    });

    // The mount targets only answer NFS; they never open a connection.
    const efsGroup = this.fileSystem.connections.securityGroups[0].node.defaultChild as ec2.CfnSecurityGroup;
    efsGroup.addPropertyOverride('SecurityGroupEgress', [NO_EGRESS]);

    // The backend's egress, as narrow as it allows: NFS to this volume, and HTTPS/HTTP anywhere.
    // HTTPS carries everything the task reaches on AWS (S3 through the gateway endpoint, Secrets
    // Manager, CloudWatch Logs, ECR) and the image pull from ghcr.io; user code in actions calls
    // arbitrary web APIs over HTTPS or HTTP, whose addresses nobody can list in advance. Every
    // other port (SMTP, odd ports for exfiltration or mining pools) is closed; DNS and the time
    // service of the VPC are not filtered by security groups. Add rules to clientSecurityGroup
    // for anything else your functions need.
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      description: 'Attach to the ECS service of the Convex backend: NFS access to its data volume',
      allowAllOutbound: false,
    });
    this.clientSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: AWS APIs, image pull, web APIs called by actions');
    this.clientSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP: web APIs called by actions');
    this.allowClientsFrom(this.clientSecurityGroup);
  }

  /** Lets `peer` (e.g. your ECS service) reach the mount targets on NFS. */
  public allowClientsFrom(peer: ec2.IConnectable): void {
    this.fileSystem.connections.allowDefaultPortFrom(peer, 'NFS from the Convex backend');
    // With egress restricted, the peer also needs the outbound rule to the mount targets.
    peer.connections.allowTo(this.fileSystem, ec2.Port.tcp(efs.FileSystem.DEFAULT_PORT), 'NFS to the Convex data volume');
  }

  /**
   * Grants `grantee` (the task role: ECS mounts with it when the volume's authorization config
   * has `iam: 'ENABLED'`) mount and write access through a mount target and the access point, in
   * its identity policy and in the file system policy, with the same actions and conditions.
   *
   * The file system policy names the principal but cannot name the access point: the access point
   * refers to the file system, so the file system's policy referring back to it would be a
   * circular dependency. It requires an access point of this account instead, which on this file
   * system means {@link accessPoint} or one an administrator adds; the identity policy names
   * {@link accessPoint} exactly.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    this.fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.ALLOW,
      principals: [grantee.grantPrincipal],
      actions: CLIENT_READ_WRITE_ACTIONS,
      conditions: {
        ...ACCESSED_VIA_MOUNT_TARGET,
        ArnLike: { [ACCESS_POINT_ARN_KEY]: Stack.of(this).formatArn({ service: 'elasticfilesystem', resource: 'access-point', resourceName: '*' }) },
      },
    }));
    return iam.Grant.addToPrincipal({
      grantee,
      actions: CLIENT_READ_WRITE_ACTIONS,
      resourceArns: [this.fileSystem.fileSystemArn],
      conditions: { ...ACCESSED_VIA_MOUNT_TARGET, StringEquals: { [ACCESS_POINT_ARN_KEY]: this.accessPoint.accessPointArn } },
    });
  }
}
