import {
  Aws, CfnMapping, Duration, Names, RemovalPolicy, Stack, Token, Validations,
  aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_rds as rds, aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { ConvexDatabaseEngine } from '../ecs/convex-backend-task-definition-props';
import type { ConvexDatabaseConnection } from '../ecs/database-connection';
import { describeRemovalPolicy, retainedWithDeletedKeyProblem } from '../ecs/key-retention';
import { DEFAULT_INSTANCE_NAME, instanceDatabaseName, instanceNameProblems } from '../instance-name';
import {
  DATABASE_MASTER_USERNAME, DEFAULT_ALLOCATED_STORAGE_GIB, DEFAULT_BACKUP_RETENTION_DAYS, DEFAULT_DATABASE_INSTANCE_TYPE,
  DEFAULT_MAX_ALLOCATED_STORAGE_FACTOR, databaseNameProblem, postgresSettingsProblems,
} from './postgres-settings';
import { RDS_CA_REGIONS, rdsCaBundle, rdsCaBundleHint } from './rds-ca-bundles';
import { RdsLogGroups } from './rds-log-groups';

/**
 * The database's port; the security group opens only this one, only to the backend. Not the
 * engine's default 5432: Control Tower's proactive control CT.RDS.PR.20 (which, where enabled,
 * blocks the deployment) and cdk-nag's AwsSolutions-RDS11 both reject it, and the backend takes
 * the port from its URL like any other part.
 */
export const POSTGRES_PORT = 5433;

/** The logs the instance exports to CloudWatch Logs. */
const POSTGRES_LOG_EXPORTS = ['postgresql', 'upgrade'];

/**
 * Every printable ASCII character but letters and digits: the generated password is letters and
 * digits only (30 of them, about 178 bits), so it needs no escaping anywhere. The start-up step
 * percent-encodes it all the same, for a password set by hand.
 */
const NON_ALPHANUMERIC_PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => !/[A-Za-z0-9]/.test(c))
  .join('');

/** How to rotate the master password by hand; quoted in the rotation acknowledgments. */
export const DATABASE_PASSWORD_ROTATION_PROCEDURE = 'The backend reads its database URL once, at start, and opens new connections with it for as long as it runs: a scheduled rotation would change the password under a running task, and its next new connection (after a network blip or a pool refresh) would fail, at whatever hour the schedule fired. Rotation is a deliberate step instead, documented in the README ("Rotating the database password"): set a new letters-and-digits password on the instance (aws rds modify-db-instance --master-user-password ... --apply-immediately), write it into this secret\'s password field (aws secretsmanager put-secret-value), then force a new deployment of the ECS service, which starts a task with the new URL; connections already open keep working until then.';

/** Properties of {@link ConvexPostgres}. */
export interface ConvexPostgresProps {
  /** The VPC of the backend's tasks. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets of the instance: isolated or private ones (a public subnet is rejected). The instance
   * is never publicly accessible either way.
   *
   * @default - the VPC's isolated subnets if it has any, else its private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The backend's tasks (their security group, or the ECS service): the only peer let in, and only
   * on the database port. More peers (a bastion for a migration) with {@link ConvexPostgres.allowConnectionsFrom}.
   *
   * @default - none yet: call allowConnectionsFrom (synth fails when no peer is allowed at all)
   */
  readonly backendConnections?: ec2.IConnectable;

  /**
   * The backend's `INSTANCE_NAME`: the initial database is named after it with `-` turned into
   * `_`, the one the backend opens. It must be the task's `INSTANCE_NAME` and never change.
   *
   * @default 'convex-self-hosted' (the image's default)
   */
  readonly instanceName?: string;

  /**
   * Key that encrypts the storage, the snapshots, the master-user secret and the exported logs
   * (in the app: the storage's key in KMS mode). A key the stack would delete is rejected while
   * the database's final snapshot and secret are kept.
   *
   * @default - AWS managed keys (aws/rds, aws/secretsmanager) and CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Instance class.
   *
   * @default ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL) (db.t4g.small)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * A standby in a second Availability Zone with synchronous replication and automatic failover
   * (about twice the instance cost). The app turns it on for stage `prod`.
   *
   * @default false
   */
  readonly multiAz?: boolean;

  /**
   * How long automated backups (and so point-in-time recovery) reach back: 1 to 35 days.
   *
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;

  /**
   * gp3 storage at creation, in GiB (at least 20).
   *
   * @default 20
   */
  readonly allocatedStorageGiB?: number;

  /**
   * Storage autoscaling grows the volume up to this many GiB.
   *
   * @default - 5 times allocatedStorageGiB
   */
  readonly maxAllocatedStorageGiB?: number;

  /**
   * PEM certificates the backend trusts for the database's TLS certificate (`PG_CA_FILE`).
   *
   * @default - the RDS root CAs of the stack's region, pinned in this package; in a stack without
   * a region, the bundle of the region it is deployed to, chosen at deployment
   */
  readonly caCertificates?: string;

  /**
   * DB instance identifier. RDS names the exported log groups after it, so it is fixed here.
   *
   * @default - derived from the construct's path (unique in the account and region)
   */
  readonly instanceIdentifier?: string;

  /**
   * Retention of the exported logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the database when it leaves the stack: `SNAPSHOT` keeps a final snapshot
   * (and the automated backups), `RETAIN` keeps the instance, `DESTROY` deletes it with its
   * backups (throw-away stacks only; it also turns deletion protection off). The secret and the
   * log groups are kept unless this is `DESTROY`.
   *
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The settings of a {@link ConvexPostgres} that `ConvexBackend` creates for its task: the props
 * without what it wires itself (the VPC, the backend's security group, the instance name, the
 * storage's key and the removal policy).
 */
export type ConvexPostgresOptions = Omit<ConvexPostgresProps, 'vpc' | 'vpcSubnets' | 'backendConnections' | 'instanceName' | 'encryptionKey' | 'removalPolicy'>;

/**
 * RDS for PostgreSQL 17 for the Convex backend, ready at first boot and verified over TLS: the
 * initial database is the one the backend opens (`INSTANCE_NAME` with `-` turned into `_`), the
 * server refuses plain-text connections (`rds.force_ssl=1`), and {@link caCertificates} holds the
 * Amazon RDS roots that the backend needs as `PG_CA_FILE` to verify it.
 *
 * Never public: isolated or private subnets, a security group open on its port (5433) only to the backend.
 * Encrypted gp3 storage with autoscaling, automated backups with point-in-time recovery, deletion
 * protection, a final snapshot on removal, exported logs, enhanced monitoring and minor-version
 * upgrades. The master credentials are generated into Secrets Manager (letters and digits) and
 * never appear in the template; the backend container builds its URL from them at start.
 *
 * Give it to `ConvexBackendTaskDefinition` as `database`: it is a {@link ConvexDatabaseConnection}.
 */
export class ConvexPostgres extends Construct implements ConvexDatabaseConnection, ec2.IConnectable {
  /** `ConvexDatabaseEngine.POSTGRES`. */
  public readonly engine = ConvexDatabaseEngine.POSTGRES;
  /** The instance. */
  public readonly instance: rds.DatabaseInstance;
  /** The master-user secret (JSON: username, password, host, port, dbname, ...). */
  public readonly credentialsSecret: secretsmanager.ISecret;
  /** The endpoint's host name. */
  public readonly hostname: string;
  /** The endpoint's port, as text. */
  public readonly port: string;
  /** The PEM CA bundle for `PG_CA_FILE`. */
  public readonly caCertificates: string;
  /** The database the backend opens: the instance name with `-` turned into `_`. */
  public readonly databaseName: string;
  /** The instance name the database is named after. */
  public readonly instanceName: string;
  /** The instance's security group rules. */
  public readonly connections: ec2.Connections;
  /** The exported log groups, by log (`postgresql`, `upgrade`). */
  public readonly logGroups: Readonly<Record<string, logs.ILogGroup>>;

  private peers = 0;

  constructor(scope: Construct, id: string, props: ConvexPostgresProps) {
    super(scope, id);
    this.instanceName = props.instanceName ?? DEFAULT_INSTANCE_NAME;
    this.databaseName = instanceDatabaseName(this.instanceName);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const kept = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const allocatedStorage = props.allocatedStorageGiB ?? DEFAULT_ALLOCATED_STORAGE_GIB;
    const vpcSubnets = props.vpcSubnets ?? { subnetType: props.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const instanceIdentifier = props.instanceIdentifier ?? defaultInstanceIdentifier(this);
    const stack = Stack.of(this);

    this.validate(props, { removalPolicy, vpcSubnets, instanceIdentifier });
    this.caCertificates = props.caCertificates ?? regionalCaBundle(stack);

    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'Convex backend database: TLS required for every connection',
      parameters: { 'rds.force_ssl': '1' },
    });

    const secret = new rds.DatabaseSecret(this, 'MasterSecret', {
      username: DATABASE_MASTER_USERNAME,
      encryptionKey: props.encryptionKey,
      excludeCharacters: NON_ALPHANUMERIC_PRINTABLE,
    });
    secret.applyRemovalPolicy(kept);

    const logGroups = new RdsLogGroups(this, 'Logs', {
      instanceIdentifier,
      exports: POSTGRES_LOG_EXPORTS,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: kept,
    });
    this.logGroups = logGroups.logGroups;

    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Publishes enhanced monitoring (OS metrics) of the Convex backend database',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    Validations.of(monitoringRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'AmazonRDSEnhancedMonitoringRole is the policy AWS publishes for this one service role: it lets RDS write OS metrics to the RDSOSMetrics log group and nothing else, and AWS keeps it in step with the monitoring agent. A copy of its statements would carry the same log-group wildcards without that upkeep.',
    });

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceIdentifier,
      instanceType: props.instanceType ?? new ec2.InstanceType(DEFAULT_DATABASE_INSTANCE_TYPE),
      vpc: props.vpc,
      vpcSubnets,
      publiclyAccessible: false,
      port: POSTGRES_PORT,
      credentials: rds.Credentials.fromSecret(secret),
      databaseName: this.databaseName,
      parameterGroup,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      iamAuthentication: false,
      multiAz: props.multiAz ?? false,
      storageType: rds.StorageType.GP3,
      allocatedStorage,
      maxAllocatedStorage: props.maxAllocatedStorageGiB ?? allocatedStorage * DEFAULT_MAX_ALLOCATED_STORAGE_FACTOR,
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      backupRetention: props.backupRetention ?? Duration.days(DEFAULT_BACKUP_RETENTION_DAYS),
      deleteAutomatedBackups: destroy,
      copyTagsToSnapshot: true,
      deletionProtection: !destroy,
      removalPolicy,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      cloudwatchLogsExports: POSTGRES_LOG_EXPORTS,
      monitoringInterval: Duration.seconds(60),
      monitoringRole,
    });
    // RDS writes into the groups created here only if they exist before it starts exporting.
    this.instance.node.addDependency(logGroups);
    this.credentialsSecret = this.instance.secret ?? secret;
    this.hostname = this.instance.dbInstanceEndpointAddress;
    this.port = this.instance.dbInstanceEndpointPort;
    this.connections = this.instance.connections;
    if (props.backendConnections) this.allowConnectionsFrom(props.backendConnections);
    this.node.addValidation({
      validate: () => this.peers > 0 ? [] : [`ConvexPostgres ${this.node.path}: no peer may reach the database. Pass backendConnections (the backend's security group or service) or call allowConnectionsFrom.`],
    });
    this.acknowledge(props, secret);
  }

  /** Lets `peer` (the backend's tasks) reach the database on its port, and nothing else. */
  public allowConnectionsFrom(peer: ec2.IConnectable): void {
    // The literal port: the instance's own is a token, which reviewers and cdk-nag cannot read.
    this.instance.connections.allowFrom(peer, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from the Convex backend');
    this.peers += 1;
  }

  private validate(props: ConvexPostgresProps, resolved: { removalPolicy: RemovalPolicy; vpcSubnets: ec2.SubnetSelection; instanceIdentifier: string }): void {
    const problems: string[] = [];
    const known = (value: unknown) => !Token.isUnresolved(value);
    if (known(this.instanceName)) {
      problems.push(...instanceNameProblems(this.instanceName).map((p) => `instanceName '${this.instanceName}' ${p}.`));
      const reserved = databaseNameProblem(this.instanceName);
      if (reserved) problems.push(`instanceName '${this.instanceName}' ${reserved}`);
    }
    const days = props.backupRetention?.toDays();
    problems.push(...postgresSettingsProblems({
      backupRetentionDays: days,
      allocatedStorageGiB: props.allocatedStorageGiB,
      maxAllocatedStorageGiB: props.maxAllocatedStorageGiB,
    }, { backupRetentionDays: 'backupRetention (days)' }));
    const publicIds = new Set(props.vpc.publicSubnets.map((s) => s.subnetId));
    const selected = props.vpc.selectSubnets(resolved.vpcSubnets).subnets;
    if (selected.some((s) => publicIds.has(s.subnetId))) {
      problems.push('vpcSubnets selects public subnets: the database belongs in isolated or private subnets (ec2.SubnetType.PRIVATE_ISOLATED or PRIVATE_WITH_EGRESS), where nothing outside the VPC can route to it.');
    }
    const identifier = resolved.instanceIdentifier;
    if (known(identifier) && (!/^[a-z](?!.*--)[a-z0-9-]{0,62}$/.test(identifier) || identifier.endsWith('-'))) {
      problems.push(`instanceIdentifier '${identifier}' is not valid; RDS takes 1 to 63 lowercase letters, digits and hyphens, starting with a letter, without two hyphens in a row or one at the end.`);
    }
    const region = Stack.of(this).region;
    if (props.caCertificates === undefined && known(region) && rdsCaBundle(region) === undefined) {
      problems.push(`caCertificates: this package pins no RDS CA bundle for region '${region}' (it has ${RDS_CA_REGIONS.join(', ')}); ${rdsCaBundleHint(region)}.`);
    }
    if (props.caCertificates !== undefined && known(props.caCertificates) && !props.caCertificates.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push('caCertificates holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the text of a PEM bundle, not a file name.');
    }
    if (resolved.removalPolicy !== RemovalPolicy.DESTROY) {
      const problem = retainedWithDeletedKeyProblem('the database\'s final snapshot, its master secret and its logs', describeRemovalPolicy(props.removalPolicy), props.encryptionKey);
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid ConvexPostgres properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  }

  /** The findings that are choices, each with its reason, next to the resource. */
  private acknowledge(props: ConvexPostgresProps, secret: secretsmanager.ISecret): void {
    const instance = this.instance;
    Validations.of(instance).acknowledge(
      { id: 'AwsSolutions-RDS6', reason: 'IAM database authentication is off because the backend cannot use it: it reads one static postgres://user:password@host:port URL at start and opens connections with it for as long as it runs, while an IAM token is a password that expires after 15 minutes. Access is limited instead by the security group (the backend\'s tasks only), TLS (rds.force_ssl) and a generated password in Secrets Manager.' },
    );
    acknowledgeComplianceRule(instance, 'RDSInBackupPlan', `Backed up by RDS itself rather than an AWS Backup plan: automated daily snapshots with point-in-time recovery kept ${props.backupRetention?.toDays() ?? DEFAULT_BACKUP_RETENTION_DAYS} days (configurable to 35), kept after the instance is deleted, a final snapshot on removal, and deletion protection. Teams with longer retention add this instance to their own AWS Backup plan.`);
    if (!(props.multiAz ?? false)) {
      const reason = 'Single-AZ because multiAz is off (the default of this construct; the app leaves it off for every stage but prod): a standby doubles the instance cost. An Availability Zone outage stops the backend until RDS recovers the instance or it is restored from its backups (point in time, no data loss beyond the last few minutes of transaction log). The app turns Multi-AZ on for stage prod; multiAz / -c databaseMultiAz=true turns it on anywhere.';
      Validations.of(instance).acknowledge({ id: 'AwsSolutions-RDS3', reason });
      acknowledgeComplianceRule(instance, 'RDSMultiAZSupport', reason);
    }
    if (props.removalPolicy === RemovalPolicy.DESTROY) {
      const reason = 'removalPolicy DESTROY: a throw-away stack whose database is deleted with it, so deletion protection is off. Every other setting keeps deletion protection on and a final snapshot.';
      Validations.of(instance).acknowledge({ id: 'AwsSolutions-RDS10', reason });
      acknowledgeComplianceRule(instance, 'RDSInstanceDeletionProtectionEnabled', reason);
    }
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: DATABASE_PASSWORD_ROTATION_PROCEDURE });
    acknowledgeComplianceRule(secret, 'SecretsManagerRotationEnabled', DATABASE_PASSWORD_ROTATION_PROCEDURE);
    if (!props.encryptionKey) {
      acknowledgeComplianceRule(secret, 'SecretsManagerUsingKMSKey', 'Encrypted at rest with the AWS managed key aws/secretsmanager. This stack grants secretsmanager:GetSecretValue on the secret only to the backend\'s task execution role; the AWS managed key adds no restriction of its own. No encryptionKey was given (the app\'s encryption s3); with encryption kms (or an encryptionKey prop) the secret, the storage and the snapshots use the storage\'s customer-managed key.');
    }
  }
}

/**
 * A DB instance identifier from the construct's path: lowercase, hyphens, unique per path.
 */
function defaultInstanceIdentifier(scope: Construct): string {
  return Names.uniqueResourceName(scope, { maxLength: 63, separator: '-' })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-$/, '');
}

/**
 * The pinned RDS CA bundle of the stack's region; in a stack without a region, a lookup in a
 * mapping of every pinned region's bundle, resolved by CloudFormation in the region it deploys to.
 * (Amazon's global bundle, over 100 KiB, does not fit a task definition's 64 KiB.)
 */
function regionalCaBundle(stack: Stack): string {
  if (!Token.isUnresolved(stack.region)) {
    return rdsCaBundle(stack.region)!;
  }
  const id = 'ConvexRdsCaBundles';
  const mapping = (stack.node.tryFindChild(id) as CfnMapping | undefined) ?? new CfnMapping(stack, id, {
    mapping: Object.fromEntries(RDS_CA_REGIONS.map((region) => [region, { Pem: rdsCaBundle(region)! }])),
    lazy: true,
  });
  return mapping.findInMap(Aws.REGION, 'Pem');
}
