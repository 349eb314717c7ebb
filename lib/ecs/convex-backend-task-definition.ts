import {
  Duration, Lazy, RemovalPolicy, Stack, Validations, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CREDENTIAL_VARS, INSTANCE_NAME, NEXT_PUBLIC_DEPLOYMENT_URL } from '../backend-env';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import { DEFAULT_INSTANCE_NAME } from '../instance-name';
import { BACKEND_API_PORT, BACKEND_HEALTH_CHECK_COMMAND, BACKEND_SITE_PORT, DASHBOARD_PORT } from './backend-ports';
import {
  backendContainerEnvironment, backendContainerSecrets, databaseCaBundleOf, databaseConnectionOf, databaseUrlVariable, grantDecryptThroughSecretsManager,
} from './backend-container-environment';
import { ConvexBackendStorage, ConvexBackendTaskDefinitionProps } from './convex-backend-task-definition-props';
import { CONVEX_DATA_DIRECTORY, ConvexDataVolume } from './data-volume';
import { EntrypointStep, entrypointCommand } from './entrypoint/backend-entrypoint';
import { databaseCaFileStep } from './entrypoint/database-ca-bundle';
import { DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB } from './fargate-sizes';
import { BACKEND_IMAGE_REPOSITORY, DASHBOARD_IMAGE_REPOSITORY, DEFAULT_CONVEX_IMAGE_TAG, imageReference, isImageDigest } from './images';
import { InstanceSecret } from './instance-secret';
import { databaseContainerSettings } from './database-connection';
import { ConvexLogGroup } from './log-group';
import { LOCAL_CLOUD_ORIGIN, LOCAL_SITE_ORIGIN } from './origins';
import {
  MAX_FARGATE_STOP_TIMEOUT_SECONDS, checkTaskDefinitionProps, logGroupKey, startupStepProblems, warnAboutTaskDefinitionProps,
} from './task-definition-checks';

export * from './backend-ports';
export * from './convex-backend-task-definition-props';
export { ONE_DOMAIN_SITE_PATH, isLoopbackHost, originProblems, plainHttpOriginRisk } from './origins';
export type { OriginRules } from './origins';

const ENVIRONMENT_VARIABLES_REASON = 'The plain environment variables hold no secrets: the region, the five bucket names, the strict S3 booleans, INSTANCE_NAME, the public origins, on/off flags and, when given, the database CA certificates (public by nature), all of them but the certificates also visible as stack outputs. INSTANCE_SECRET and the database URL (or, for a managed database, its user and password; its host and port are plain) come from Secrets Manager through the container\'s secrets, and no AWS access key is set: the task role holds the access policy.';

/** The dashboard's hard memory limit beside the backend: a Next.js server serving a few pages. */
const DASHBOARD_MEMORY_MIB = 256;

/**
 * The `INSTANCE_NAME` the backend runs with: the one asked for, else the storage's, else the
 * storage environment's, else the backend's default. Constructs that name things after it before
 * the task definition exists (the database) call this, so they cannot disagree with the task.
 */
export function backendInstanceName(requested: string | undefined, storage: ConvexBackendStorage): string {
  return requested ?? storage.instanceName ?? storage.backendEnvironment[INSTANCE_NAME] ?? DEFAULT_INSTANCE_NAME;
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
  /** The entrypoint wrapper's start-up steps, in order. */
  private readonly startupSteps: EntrypointStep[] = [];

  constructor(scope: Construct, id: string, props: ConvexBackendTaskDefinitionProps) {
    super(scope, id);
    const imageTag = props.imageTag ?? DEFAULT_CONVEX_IMAGE_TAG;
    const dashboardImageTag = props.dashboardImageTag ?? (isImageDigest(imageTag) ? undefined : imageTag);
    const storageEnvironment = withoutCredentials(props.storage.backendEnvironment);
    this.instanceName = backendInstanceName(props.instanceName, props.storage);
    const cloudOrigin = props.cloudOrigin ?? LOCAL_CLOUD_ORIGIN;
    const siteOrigin = props.siteOrigin ?? LOCAL_SITE_ORIGIN;
    const cpu = props.cpu ?? DEFAULT_BACKEND_CPU;
    const memoryLimitMiB = props.memoryLimitMiB ?? DEFAULT_BACKEND_MEMORY_MIB;
    const stopTimeout = props.stopTimeout ?? Duration.seconds(MAX_FARGATE_STOP_TIMEOUT_SECONDS);
    const startPeriod = props.healthCheckStartPeriod ?? Duration.seconds(60);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const resolved = {
      imageTag, dashboardImageTag, instanceName: this.instanceName, cloudOrigin, siteOrigin, cpu, memoryLimitMiB, stopTimeout, startPeriod,
      storageEnvironment, removalPolicy,
    };
    checkTaskDefinitionProps(this, props, resolved);
    warnAboutTaskDefinitionProps(this, props, resolved);

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

    // A storage key from another stack is used through its ARN: the secret's grant would otherwise
    // name the execution role in that stack's key policy, a reference back to this stack that
    // closes a dependency cycle (this stack already needs the key). The role's own policy gets
    // the key instead, as for the database secret.
    const storageKey = props.storage.encryptionKey;
    const storageKeyElsewhere = storageKey !== undefined && Stack.of(storageKey) !== stack;
    const generatedSecret = props.instanceSecret ? undefined : new InstanceSecret(this, 'InstanceSecret', {
      encryptionKey: storageKeyElsewhere ? kms.Key.fromKeyArn(this, 'StorageKey', storageKey.keyArn) : storageKey,
      removalPolicy,
    });
    this.instanceSecret = props.instanceSecret ?? generatedSecret!.secret;
    if (generatedSecret && props.instanceSecretReaderArns !== undefined) {
      generatedSecret.denyReadingExcept([this.executionRole.roleArn, ...props.instanceSecretReaderArns]);
    }
    if (storageKeyElsewhere && !props.instanceSecret) {
      grantDecryptThroughSecretsManager(this.executionRole, storageKey, stack.region, stack.urlSuffix);
    }

    const secrets = backendContainerSecrets(this, props, this.instanceSecret, this.executionRole);
    const environment = backendContainerEnvironment(props, resolved);
    if (databaseCaBundleOf(props) !== undefined) this.startupSteps.push(databaseCaFileStep());
    const connection = databaseConnectionOf(props);
    if (connection) {
      const urlVariable = databaseUrlVariable(props);
      this.startupSteps.push({ description: `build ${urlVariable} from the database secret's user and password`, script: databaseContainerSettings(connection, urlVariable).startupScript });
    }
    for (const step of props.startupSteps ?? []) this.addStartupStep(step);

    this.backendContainer = this.taskDefinition.addContainer('Backend', {
      containerName: 'convex-backend',
      image: ecs.ContainerImage.fromRegistry(this.image),
      essential: true,
      // The image's own entrypoint, wrapped: ECS stops with SIGTERM, the backend drains on SIGINT.
      // Rendered at synth, so steps added later with addStartupStep count.
      entryPoint: Lazy.list({ produce: () => entrypointCommand(this.startupSteps) }),
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
      // A hard limit per container (Control Tower CT.ECS.PR.7): the task's memory, less the
      // dashboard's share when it runs beside the backend, so neither can starve the other.
      memoryLimitMiB: props.dashboard && dashboardImageTag !== undefined ? memoryLimitMiB - DASHBOARD_MEMORY_MIB : memoryLimitMiB,
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
        memoryLimitMiB: DASHBOARD_MEMORY_MIB,
      });
      this.dashboardContainer.addContainerDependencies({ container: this.backendContainer, condition: ecs.ContainerDependencyCondition.HEALTHY });
    }
  }

  /**
   * Adds a start-up step to the backend container's entrypoint wrapper: POSIX `sh` run before the
   * backend starts, after the steps already added (the database CA file first); what it
   * `export`s reaches the backend. Take values from the container's environment or secrets
   * (`backendContainer.addSecret`), never write a secret into the script: it is stored in the
   * task definition in clear text. See `EntrypointStep`.
   */
  public addStartupStep(step: EntrypointStep): void {
    const problems = startupStepProblems(step);
    if (problems.length > 0) throw new Error(`Invalid start-up step for ${this.node.path}: ${problems.join(' ')}`);
    this.startupSteps.push(step);
  }

  private newLogGroup(props: ConvexBackendTaskDefinitionProps, removalPolicy: RemovalPolicy): logs.ILogGroup {
    return new ConvexLogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: logGroupKey(props),
      removalPolicy,
      purpose: 'The Convex backend\'s container logs hold no secrets: INSTANCE_SECRET and the database URL are injected from Secrets Manager, never logged.',
    }).logGroup;
  }
}

/** The storage environment without credentials: with a task role, keys would take precedence. */
function withoutCredentials(environment: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !CREDENTIAL_VARS.includes(name)));
}
