import {
  Annotations, Duration, RemovalPolicy, Stack, Token, Validations,
  aws_ec2 as ec2, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  CONVEX_CLOUD_ORIGIN, CONVEX_SITE_ORIGIN, CREDENTIAL_VARS, INSTANCE_NAME, INSTANCE_SECRET, MYSQL_URL, NEXT_PUBLIC_DEPLOYMENT_URL,
  POSTGRES_URL, PRESENCE_FLAG_VARS, REQUIRED_S3_VARS,
} from '../backend-env';
import { DEFAULT_INSTANCE_NAME, instanceNameProblems } from '../instance-name';
import { CONVEX_DATA_DIRECTORY, ConvexDataVolume } from './data-volume';
import { DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB, fargateSizeProblems } from './fargate-sizes';
import {
  BACKEND_IMAGE_REPOSITORY, DASHBOARD_IMAGE_REPOSITORY, DEFAULT_CONVEX_IMAGE_TAG, LATEST_TAG, imageReference,
  imageVersionProblems, isImageDigest,
} from './images';
import { InstanceSecret } from './instance-secret';
import { describeRemovalPolicy, isKept, retainedWithDeletedKeyProblem } from './key-retention';
import { ConvexLogGroup } from './log-group';
import { ManagedPolicyRole } from '../iam/managed-policy-role';

/** Port of the backend API (`CONVEX_CLOUD_ORIGIN` points here). */
export const BACKEND_API_PORT = 3210;
/** Port of the HTTP actions (`CONVEX_SITE_ORIGIN` points here). */
export const BACKEND_SITE_PORT = 3211;
/** Port of the optional dashboard container. */
export const DASHBOARD_PORT = 6791;
/** The backend's health check, as upstream's docker-compose file runs it. */
export const BACKEND_HEALTH_CHECK_COMMAND = `curl -f http://localhost:${BACKEND_API_PORT}/version`;

/** Origins the image falls back to (upstream docker-compose): reachable only inside the task. */
const LOCAL_CLOUD_ORIGIN = `http://127.0.0.1:${BACKEND_API_PORT}`;
const LOCAL_SITE_ORIGIN = `http://127.0.0.1:${BACKEND_SITE_PORT}`;

/** Fargate caps the stop timeout at 120 seconds. */
const MAX_FARGATE_STOP_TIMEOUT_SECONDS = 120;
/** ECS caps a health check start period at 300 seconds. */
const MAX_HEALTH_CHECK_START_PERIOD_SECONDS = 300;

const ENVIRONMENT_VARIABLES_REASON = 'The plain environment variables hold no secrets: the region, the five bucket names, the strict S3 booleans, INSTANCE_NAME, the public origins and on/off flags, all of them also visible as stack outputs. INSTANCE_SECRET and the database URL come from Secrets Manager through the container\'s secrets, and no AWS access key is set: the task role holds the access policy.';

/**
 * What the task definition needs from the storage: satisfied by `ConvexStorage`, or by your own
 * object when the buckets live elsewhere.
 */
export interface ConvexBackendStorage {
  /**
   * The backend's storage environment by exact variable name: `AWS_REGION`, the five
   * `S3_STORAGE_*_BUCKET`, in KMS mode `AWS_S3_DISABLE_SSE=true`, and `INSTANCE_NAME` when the
   * storage is narrowed to one. Access keys in it are dropped: the task role is used.
   */
  readonly backendEnvironment: Readonly<Record<string, string>>;
  /**
   * The buckets' KMS key in KMS mode; it then also encrypts the secret, the volume and the logs.
   *
   * @default - no customer-managed key (SSE-S3): AWS managed keys encrypt the secret and volume
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The instance name the storage's access policy is narrowed to. When set, the task's
   * `INSTANCE_NAME` must be the same (and so must `INSTANCE_NAME` in `backendEnvironment`).
   *
   * @default - the policy is not narrowed to an instance name
   */
  readonly instanceName?: string;
  /** Attaches the backend's access policy to `grantee` (here: the task role). */
  grantBackendAccess(grantee: iam.IGrantable): unknown;
  /**
   * Denies `principal` every storage request that does not arrive through one of the S3 gateway
   * VPC endpoints `vpcEndpointIds` (`ConvexStorage` does it in its bucket policies). Called by
   * `ConvexBackend` for its task role when it creates the VPC; storage without it is not restricted.
   */
  restrictBackendToVpcEndpoints?(principal: iam.IRole, vpcEndpointIds: readonly string[]): void;
}

/** The SQL databases the backend supports besides SQLite. */
export enum ConvexDatabaseEngine {
  /** `POSTGRES_URL`. */
  POSTGRES = 'postgres',
  /** `MYSQL_URL`. */
  MYSQL = 'mysql',
}

/** An external database for the backend. */
export interface ConvexDatabase {
  /** Which database, and so which variable (`POSTGRES_URL` or `MYSQL_URL`) the URL goes into. */
  readonly engine: ConvexDatabaseEngine;
  /**
   * Secret holding the connection URL *without* a database name, e.g.
   * `postgres://user:password@host:5432`. The backend opens the database named after
   * `INSTANCE_NAME` with `-` turned into `_`; it must exist.
   *
   * The execution role is granted `secretsmanager:GetSecretValue` on it. Import a secret by its
   * complete ARN (`Secret.fromSecretCompleteArn`): a partial ARN is granted with a wildcard and
   * injected as given. If the secret is encrypted with a customer-managed KMS key, give that key
   * as `urlSecretEncryptionKey` too, or the task fails to start.
   */
  readonly urlSecret: secretsmanager.ISecret;
  /**
   * The customer-managed KMS key that encrypts `urlSecret`: the execution role is granted
   * `kms:Decrypt` on it through Secrets Manager (`kms:ViaService`). Its key policy must let IAM
   * policies of the account use it, as the default key policy does. (A grant on the secret alone
   * reaches only the policy of a key defined in this app, never an imported one.)
   *
   * @default - none: the secret is encrypted with the AWS managed key `aws/secretsmanager`
   */
  readonly urlSecretEncryptionKey?: kms.IKey;
  /**
   * JSON field of the secret that holds the URL.
   *
   * @default - the whole secret value is the URL
   */
  readonly urlSecretField?: string;
}

/** Properties of {@link ConvexBackendTaskDefinition}. */
export interface ConvexBackendTaskDefinitionProps {
  /** The S3 storage the backend uses (a `ConvexStorage`). */
  readonly storage: ConvexBackendStorage;

  /**
   * Version of the backend image `ghcr.io/get-convex/convex-backend`: a tag (upstream tags every
   * release with its full 40-character commit SHA) or a digest `sha256:<64 hex>`. Images built
   * before commit ca1f91cde (2026-04-09) ignore the task role and keep data on local disk.
   * `latest` works but gives a synth warning: every task start may run a different version.
   *
   * @default DEFAULT_CONVEX_IMAGE_TAG
   */
  readonly imageTag?: string;

  /**
   * `INSTANCE_NAME`: lowercase letters, digits and hyphens. It seeds the S3 key prefix of every
   * object and names the SQL database, so it must **never change** once the backend has started.
   * Must equal the storage's `instanceName` (and `INSTANCE_NAME` in its `backendEnvironment`) when
   * that is set.
   *
   * @default - the storage's instanceName, else `convex-self-hosted` (the image's default)
   */
  readonly instanceName?: string;

  /**
   * Secret whose value is the `INSTANCE_SECRET` (exactly 64 hex characters). Admin keys are
   * derived from it.
   *
   * @default - a generated secret of 64 lowercase hex characters
   */
  readonly instanceSecret?: secretsmanager.ISecret;

  /**
   * JSON field of `instanceSecret` that holds the value.
   *
   * @default - the whole secret value
   */
  readonly instanceSecretField?: string;

  /**
   * `CONVEX_CLOUD_ORIGIN`: the public URL of the API (port 3210), e.g.
   * `https://api.convex.example.com`, without a path. File and upload URLs are built from it and
   * the Node executor in the container calls back to it, so the task must reach it.
   *
   * @default - `http://127.0.0.1:3210`, reachable only inside the task (synth warning)
   */
  readonly cloudOrigin?: string;

  /**
   * `CONVEX_SITE_ORIGIN`: the public URL of the HTTP actions (port 3211), without a path.
   *
   * @default - `http://127.0.0.1:3211`, reachable only inside the task (synth warning)
   */
  readonly siteOrigin?: string;

  /**
   * An external Postgres or MySQL database. Without one the backend keeps SQLite under
   * `/convex/data`, which then needs `vpc` (a persistent EFS volume) or `ephemeralData`.
   *
   * @default - SQLite under /convex/data
   */
  readonly database?: ConvexDatabase;

  /**
   * VPC of the ECS service that will run the task. With SQLite (no `database`), a persistent,
   * encrypted EFS volume is created in it and mounted at `/convex/data`.
   *
   * @default - no volume
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of the data volume's mount targets: those your service's tasks run in.
   *
   * @default - the VPC's private subnets
   */
  readonly dataVolumeSubnets?: ec2.SubnetSelection;

  /**
   * Run SQLite on the task's ephemeral storage: **every task restart, deployment or scaling event
   * deletes all data**. Only for throw-away test deployments; gives a synth warning.
   *
   * @default false
   */
  readonly ephemeralData?: boolean;

  /**
   * Sets `DISABLE_BEACON` (no anonymous usage beacon to Convex).
   *
   * @default false
   */
  readonly disableBeacon?: boolean;

  /**
   * Sets `REDACT_LOGS_TO_CLIENT` (function logs and errors are not sent to clients).
   *
   * @default false
   */
  readonly redactLogsToClient?: boolean;

  /**
   * Sets `DO_NOT_REQUIRE_SSL` (allows plain-text connections to the database).
   *
   * @default false
   */
  readonly doNotRequireSsl?: boolean;

  /**
   * CPU units of the task (1024 = 1 vCPU); a Fargate size.
   *
   * @default 1024
   */
  readonly cpu?: number;

  /**
   * Memory of the task in MiB; must fit `cpu` on Fargate.
   *
   * @default 2048
   */
  readonly memoryLimitMiB?: number;

  /**
   * CPU architecture. The upstream images are published for both.
   *
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * Time the backend gets after SIGTERM to finish in-flight writes and uploads before it is
   * killed; at most 120 seconds on Fargate.
   *
   * @default Duration.seconds(120)
   */
  readonly stopTimeout?: Duration;

  /**
   * Grace period before failed health checks count (first start, migrations); at most 300 s.
   *
   * @default Duration.seconds(60)
   */
  readonly healthCheckStartPeriod?: Duration;

  /**
   * Log group of the containers.
   *
   * @default - a log group created here, retained on stack deletion
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * Retention of the log group created here.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the log group created here. The key policy must let CloudWatch Logs use it; this
   * construct adds that statement to keys whose policy it can change.
   *
   * @default - the storage's key when the storage created it (KMS mode), else CloudWatch Logs'
   * own encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Add the dashboard container (`ghcr.io/get-convex/convex-dashboard`, port 6791), pointed at
   * `cloudOrigin`.
   *
   * @default false
   */
  readonly dashboard?: boolean;

  /**
   * Version of the dashboard image; keep it on the backend's version.
   *
   * @default - the backend's `imageTag` (required when that is a digest)
   */
  readonly dashboardImageTag?: string;

  /**
   * What happens to the generated instance secret, the data volume and the log group when they
   * leave the stack. When they are kept and encrypted with a KMS key of this app that the stack
   * would delete (DeletionPolicy `Delete`), synth fails: they would be unreadable.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Fargate task definition that runs the self-hosted Convex backend on a `ConvexStorage`:
 * bucket environment from the storage, S3 access through the task role (no keys), a generated
 * `INSTANCE_SECRET` in Secrets Manager, and data that survives a task restart (an external
 * database or an encrypted EFS volume).
 *
 * Run it with your own `ecs.FargateService` with `desiredCount: 1`, `minHealthyPercent: 0` and
 * `maxHealthyPercent: 100`: the backend is a single writer and two tasks must never share its
 * data.
 */
export class ConvexBackendTaskDefinition extends Construct {
  /** The task definition to run in your service. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The backend container (ports 3210 and 3211). */
  public readonly backendContainer: ecs.ContainerDefinition;
  /** The dashboard container (port 6791), when enabled. */
  public readonly dashboardContainer?: ecs.ContainerDefinition;
  /** The role the backend runs with; it holds the storage's access policy. */
  public readonly taskRole: iam.IRole;
  /** The role ECS pulls images, reads secrets and writes logs with. */
  public readonly executionRole: iam.IRole;
  /** The secret holding `INSTANCE_SECRET`. */
  public readonly instanceSecret: secretsmanager.ISecret;
  /** The data volume at /convex/data (SQLite mode with a VPC). */
  public readonly dataVolume?: ConvexDataVolume;
  /** The containers' log group. */
  public readonly logGroup: logs.ILogGroup;
  /** The `INSTANCE_NAME` in use. Never change it. */
  public readonly instanceName: string;
  /** The backend image reference. */
  public readonly image: string;

  constructor(scope: Construct, id: string, props: ConvexBackendTaskDefinitionProps) {
    super(scope, id);
    const imageTag = props.imageTag ?? DEFAULT_CONVEX_IMAGE_TAG;
    const dashboardImageTag = props.dashboardImageTag ?? (isImageDigest(imageTag) ? undefined : imageTag);
    const storageEnvironment = withoutCredentials(props.storage.backendEnvironment);
    this.instanceName = props.instanceName ?? props.storage.instanceName ?? storageEnvironment[INSTANCE_NAME] ?? DEFAULT_INSTANCE_NAME;
    const cloudOrigin = props.cloudOrigin ?? LOCAL_CLOUD_ORIGIN;
    const siteOrigin = props.siteOrigin ?? LOCAL_SITE_ORIGIN;
    const cpu = props.cpu ?? DEFAULT_BACKEND_CPU;
    const memoryLimitMiB = props.memoryLimitMiB ?? DEFAULT_BACKEND_MEMORY_MIB;
    const stopTimeout = props.stopTimeout ?? Duration.seconds(MAX_FARGATE_STOP_TIMEOUT_SECONDS);
    const startPeriod = props.healthCheckStartPeriod ?? Duration.seconds(60);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.validate(props, { imageTag, dashboardImageTag, cloudOrigin, siteOrigin, cpu, memoryLimitMiB, stopTimeout, startPeriod, storageEnvironment, removalPolicy });
    this.warn(props, { imageTag, dashboardImageTag });

    this.image = imageReference(BACKEND_IMAGE_REPOSITORY, imageTag);
    // Confused-deputy protection: ECS passes the task's account (and, for the task role, an ARN in
    // that account and region) to STS, so only tasks of this account and region assume the roles.
    // ECS does not support naming one cluster in aws:SourceArn, hence the wildcard.
    const stack = Stack.of(this);
    const sourceAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };
    this.taskRole = new ManagedPolicyRole(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: { ...sourceAccount, ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:*` } },
      }),
      description: 'Runs the self-hosted Convex backend: access to its S3 storage (and data volume)',
    });
    this.executionRole = new ManagedPolicyRole(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', { conditions: sourceAccount }),
      description: 'Starts the Convex backend task: reads its secrets and writes its logs',
    });
    props.storage.grantBackendAccess(this.taskRole);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
    });
    Validations.of(this.taskDefinition).acknowledge({ id: 'AwsSolutions-ECS2', reason: ENVIRONMENT_VARIABLES_REASON });

    this.logGroup = props.logGroup ?? this.newLogGroup(props, removalPolicy);

    this.instanceSecret = props.instanceSecret ?? new InstanceSecret(this, 'InstanceSecret', {
      encryptionKey: props.storage.encryptionKey,
      removalPolicy,
    }).secret;

    const secrets: Record<string, ecs.Secret> = {
      [INSTANCE_SECRET]: ecs.Secret.fromSecretsManager(this.instanceSecret, props.instanceSecretField),
    };
    if (props.database) {
      const variable = props.database.engine === ConvexDatabaseEngine.MYSQL ? MYSQL_URL : POSTGRES_URL;
      secrets[variable] = ecs.Secret.fromSecretsManager(props.database.urlSecret, props.database.urlSecretField);
      const key = props.database.urlSecretEncryptionKey;
      if (key) {
        this.executionRole.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${props.database.urlSecret.env.region}.${stack.urlSuffix}` } },
        }));
      }
    }

    const environment: Record<string, string> = {
      ...storageEnvironment,
      [INSTANCE_NAME]: this.instanceName,
      [CONVEX_CLOUD_ORIGIN]: cloudOrigin,
      [CONVEX_SITE_ORIGIN]: siteOrigin,
    };
    // Any non-empty value switches these on, `false` included: set them only when wanted.
    const flags: Array<[boolean | undefined, string]> = [
      [props.disableBeacon, PRESENCE_FLAG_VARS.disableBeacon],
      [props.redactLogsToClient, PRESENCE_FLAG_VARS.redactLogsToClient],
      [props.doNotRequireSsl, PRESENCE_FLAG_VARS.doNotRequireSsl],
    ];
    for (const [on, variable] of flags) {
      if (on === true) environment[variable] = 'true';
    }

    this.backendContainer = this.taskDefinition.addContainer('Backend', {
      containerName: 'convex-backend',
      image: ecs.ContainerImage.fromRegistry(this.image),
      essential: true,
      environment,
      secrets,
      portMappings: [
        { name: 'api', containerPort: BACKEND_API_PORT, protocol: ecs.Protocol.TCP, appProtocol: ecs.AppProtocol.http },
        { name: 'site', containerPort: BACKEND_SITE_PORT, protocol: ecs.Protocol.TCP, appProtocol: ecs.AppProtocol.http },
      ],
      healthCheck: {
        command: ['CMD-SHELL', `${BACKEND_HEALTH_CHECK_COMMAND} || exit 1`],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod,
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'backend' }),
      stopTimeout,
    });

    if (!props.database && props.vpc) {
      this.dataVolume = new ConvexDataVolume(this, 'DataVolume', {
        vpc: props.vpc,
        vpcSubnets: props.dataVolumeSubnets,
        encryptionKey: props.storage.encryptionKey,
        removalPolicy,
      });
      this.dataVolume.grantReadWrite(this.taskRole);
      const volumeName = 'convex-data';
      this.taskDefinition.addVolume({
        name: volumeName,
        efsVolumeConfiguration: {
          fileSystemId: this.dataVolume.fileSystem.fileSystemId,
          transitEncryption: 'ENABLED',
          authorizationConfig: { accessPointId: this.dataVolume.accessPoint.accessPointId, iam: 'ENABLED' },
        },
      });
      this.backendContainer.addMountPoints({ sourceVolume: volumeName, containerPath: CONVEX_DATA_DIRECTORY, readOnly: false });
    }

    if (props.dashboard && dashboardImageTag !== undefined) {
      this.dashboardContainer = this.taskDefinition.addContainer('Dashboard', {
        containerName: 'convex-dashboard',
        image: ecs.ContainerImage.fromRegistry(imageReference(DASHBOARD_IMAGE_REPOSITORY, dashboardImageTag)),
        // The backend keeps serving when the dashboard fails.
        essential: false,
        environment: { [NEXT_PUBLIC_DEPLOYMENT_URL]: cloudOrigin },
        portMappings: [{ name: 'dashboard', containerPort: DASHBOARD_PORT, protocol: ecs.Protocol.TCP, appProtocol: ecs.AppProtocol.http }],
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'dashboard' }),
      });
      this.dashboardContainer.addContainerDependencies({ container: this.backendContainer, condition: ecs.ContainerDependencyCondition.HEALTHY });
    }
  }

  private newLogGroup(props: ConvexBackendTaskDefinitionProps, removalPolicy: RemovalPolicy): logs.ILogGroup {
    return new ConvexLogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: logGroupKey(props),
      removalPolicy,
      purpose: 'The Convex backend\'s container logs hold no secrets: INSTANCE_SECRET and the database URL are injected from Secrets Manager, never logged.',
    }).logGroup;
  }

  private validate(props: ConvexBackendTaskDefinitionProps, resolved: {
    imageTag: string; dashboardImageTag?: string; cloudOrigin: string; siteOrigin: string; cpu: number; memoryLimitMiB: number;
    stopTimeout: Duration; startPeriod: Duration; storageEnvironment: Readonly<Record<string, string>>; removalPolicy: RemovalPolicy;
  }): void {
    const problems: string[] = [];
    const known = (value: unknown) => !Token.isUnresolved(value);

    if (known(resolved.imageTag)) problems.push(...imageVersionProblems('imageTag', resolved.imageTag));
    if (props.dashboardImageTag !== undefined && known(props.dashboardImageTag)) {
      problems.push(...imageVersionProblems('dashboardImageTag', props.dashboardImageTag));
    }
    if (props.dashboard && resolved.dashboardImageTag === undefined) {
      problems.push(`dashboard is on and imageTag is the digest '${resolved.imageTag}', which names a backend image only: set dashboardImageTag to the dashboard's tag or digest of the same version.`);
    }
    if (!props.dashboard && props.dashboardImageTag !== undefined) {
      problems.push('dashboardImageTag is set but dashboard is off: set dashboard to true or drop dashboardImageTag.');
    }

    if (known(this.instanceName)) {
      problems.push(...instanceNameProblems(this.instanceName).map((p) => `instanceName '${this.instanceName}' ${p}.`));
    }
    problems.push(...instanceNameConflicts(props, resolved.storageEnvironment));

    for (const [prop, value] of [['cloudOrigin', props.cloudOrigin], ['siteOrigin', props.siteOrigin]] as const) {
      if (value !== undefined && known(value)) problems.push(...originProblems(prop, value));
    }

    for (const variable of REQUIRED_S3_VARS) {
      const value = resolved.storageEnvironment[variable];
      if (value === undefined || (known(value) && value.length === 0)) {
        problems.push(`the storage's backendEnvironment has no ${variable}: the image only switches on S3 storage when AWS_REGION and all five S3_STORAGE_*_BUCKET variables are set, else it silently keeps files on local disk.`);
      }
    }

    if (props.database) {
      if (props.ephemeralData) {
        problems.push('ephemeralData is set but a database is given: the data lives in the database. Drop ephemeralData.');
      }
      if (props.dataVolumeSubnets) {
        problems.push('dataVolumeSubnets is set but a database is given, so there is no data volume. Drop dataVolumeSubnets.');
      }
    } else if (props.vpc && props.ephemeralData) {
      problems.push('ephemeralData is set together with vpc: with a VPC the construct mounts a persistent EFS volume at /convex/data. Drop ephemeralData (recommended) or vpc.');
    } else if (!props.vpc && !props.ephemeralData) {
      problems.push('without a database the backend keeps SQLite under /convex/data, and on Fargate that is lost on every task restart or deployment. Give vpc (a persistent, encrypted EFS volume is mounted there), or database (a Postgres or MySQL URL secret), or set ephemeralData to true for a throw-away deployment.');
    }
    if (!props.vpc && props.dataVolumeSubnets) {
      problems.push('dataVolumeSubnets needs vpc.');
    }

    if (known(resolved.cpu) && known(resolved.memoryLimitMiB)) {
      problems.push(...fargateSizeProblems(resolved.cpu, resolved.memoryLimitMiB));
    }
    const stopSeconds = resolved.stopTimeout.toSeconds({ integral: false });
    if (known(stopSeconds) && (stopSeconds < 2 || stopSeconds > MAX_FARGATE_STOP_TIMEOUT_SECONDS)) {
      problems.push(`stopTimeout is ${stopSeconds} seconds; Fargate accepts 2 to ${MAX_FARGATE_STOP_TIMEOUT_SECONDS}.`);
    }
    const startSeconds = resolved.startPeriod.toSeconds({ integral: false });
    if (known(startSeconds) && (startSeconds < 0 || startSeconds > MAX_HEALTH_CHECK_START_PERIOD_SECONDS || !Number.isInteger(startSeconds))) {
      problems.push(`healthCheckStartPeriod is ${startSeconds} seconds; ECS accepts whole seconds from 0 to ${MAX_HEALTH_CHECK_START_PERIOD_SECONDS}.`);
    }
    if (props.logGroup && (props.logRetention !== undefined || props.logEncryptionKey !== undefined)) {
      problems.push('logRetention and logEncryptionKey apply to the log group this construct creates: set them on your logGroup instead, or drop logGroup.');
    }
    problems.push(...deletedKeyProblems(props, resolved.removalPolicy));

    if (problems.length > 0) {
      throw new Error(`Invalid ConvexBackendTaskDefinition properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  }

  private warn(props: ConvexBackendTaskDefinitionProps, resolved: { imageTag: string; dashboardImageTag?: string }): void {
    const annotations = Annotations.of(this);
    if (resolved.imageTag === LATEST_TAG || (props.dashboard && resolved.dashboardImageTag === LATEST_TAG)) {
      annotations.addWarningV2('cdk-convex-storage:image-latest', `The image tag '${LATEST_TAG}' moves: each task start may run a different backend version, an older one may not run keyless with a task role, and the backend cannot downgrade its data. Pin a 40-character commit tag (the default is ${DEFAULT_CONVEX_IMAGE_TAG}) or a digest.`);
    }
    if (!props.database && !props.vpc && props.ephemeralData) {
      annotations.addWarningV2('cdk-convex-storage:ephemeral-data', 'ephemeralData: the backend keeps SQLite on the task\'s ephemeral storage, and every task restart, deployment or scaling event DELETES ALL DATA (documents, and the INSTANCE_NAME-to-S3-prefix record, so S3 objects are orphaned). Use only for throw-away deployments; give vpc or database for anything else.');
    }
    if (props.database && props.vpc) {
      annotations.addWarningV2('cdk-convex-storage:vpc-unused', 'vpc is only used for the SQLite data volume, and a database is given: no volume is created.');
    }
    if (props.cloudOrigin === undefined || props.siteOrigin === undefined) {
      annotations.addWarningV2('cdk-convex-storage:local-origins', `cloudOrigin/siteOrigin not set: the backend uses ${LOCAL_CLOUD_ORIGIN} and ${LOCAL_SITE_ORIGIN}, which only work inside the task. File URLs and clients outside need the public URLs of ports ${BACKEND_API_PORT} and ${BACKEND_SITE_PORT}.`);
    }
  }
}

/** The storage environment without credentials: with a task role, keys would take precedence. */
function withoutCredentials(environment: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !CREDENTIAL_VARS.includes(name)));
}

/**
 * The log group's key: `logEncryptionKey`, else the storage's key when this app writes its policy
 * (an imported key's policy cannot be changed here, and the log group would fail to create).
 */
function logGroupKey(props: ConvexBackendTaskDefinitionProps): kms.IKey | undefined {
  const storageKey = props.storage.encryptionKey;
  return props.logEncryptionKey ?? (storageKey instanceof kms.Key ? storageKey : undefined);
}

/**
 * `INSTANCE_NAME` has one value: the prop, the storage's `instanceName` and `INSTANCE_NAME` in
 * the storage's environment must agree wherever they are set. Tokens are not compared.
 */
function instanceNameConflicts(props: ConvexBackendTaskDefinitionProps, storageEnvironment: Readonly<Record<string, string>>): string[] {
  const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);
  const storageName = props.storage.instanceName;
  const environmentName = storageEnvironment[INSTANCE_NAME];
  const problems: string[] = [];
  if (known(props.instanceName) && known(storageName) && props.instanceName !== storageName) {
    problems.push(`instanceName '${props.instanceName}' differs from the storage's instanceName '${storageName}': the storage's access policy only covers keys under '${storageName}-', so the backend could not read or write its objects. Use the same name (and never change it).`);
  }
  const expected = known(storageName) ? { name: storageName, source: 'the storage\'s instanceName' } : known(props.instanceName) ? { name: props.instanceName, source: 'instanceName' } : undefined;
  if (known(environmentName) && expected && environmentName !== expected.name) {
    problems.push(`the storage's backendEnvironment sets ${INSTANCE_NAME} '${environmentName}', which differs from ${expected.source} '${expected.name}': the backend has one INSTANCE_NAME, and it seeds the S3 key prefix. Make them the same (and never change it).`);
  }
  return problems;
}

/** Kept resources created here whose KMS key the stack would delete (see `removalPolicy`). */
function deletedKeyProblems(props: ConvexBackendTaskDefinitionProps, removalPolicy: RemovalPolicy): string[] {
  if (!isKept(removalPolicy)) return [];
  const storageKey = props.storage.encryptionKey;
  const encrypted: Array<[string, kms.IKey | undefined]> = [];
  if (!props.database && props.vpc) encrypted.push(['the data volume (the SQLite database)', storageKey]);
  if (!props.instanceSecret) encrypted.push(['the instance secret', storageKey]);
  if (!props.logGroup) encrypted.push(['the log group', logGroupKey(props)]);
  const byKey = new Map<kms.IKey, string[]>();
  for (const [what, key] of encrypted) {
    if (key) byKey.set(key, [...(byKey.get(key) ?? []), what]);
  }
  const setting = describeRemovalPolicy(props.removalPolicy);
  return [...byKey].flatMap(([key, what]) => {
    const problem = retainedWithDeletedKeyProblem(joinWords(what), setting, key);
    return problem ? [problem] : [];
  });
}

function joinWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** Problems with a public origin: an http(s) URL with a host and no path, query or fragment. */
export function originProblems(prop: string, value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [`${prop} '${value}' is not a URL: expected e.g. https://convex.example.com (scheme and host, optional port, no path).`];
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`${prop} '${value}' must start with https:// (or http://).`);
  }
  if (url.username || url.password) {
    problems.push(`${prop} '${value}' must not contain credentials.`);
  }
  if (url.pathname !== '/' || value.endsWith('/') || url.search || url.hash) {
    problems.push(`${prop} '${value}' must be an origin without a path, trailing slash, query or fragment (e.g. https://convex.example.com): the backend appends its own paths.`);
  }
  return problems;
}
