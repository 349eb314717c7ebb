import {
  Duration, RemovalPolicy, Stack, Validations, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  CONVEX_CLOUD_ORIGIN, CONVEX_SITE_ORIGIN, CREDENTIAL_VARS, INSTANCE_NAME, INSTANCE_SECRET, MYSQL_URL, NEXT_PUBLIC_DEPLOYMENT_URL,
  POSTGRES_URL, PRESENCE_FLAG_VARS,
} from '../backend-env';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import { DEFAULT_INSTANCE_NAME } from '../instance-name';
import { BACKEND_API_PORT, BACKEND_HEALTH_CHECK_COMMAND, BACKEND_SITE_PORT, DASHBOARD_PORT } from './backend-ports';
import { ConvexBackendTaskDefinitionProps, ConvexDatabaseEngine } from './convex-backend-task-definition-props';
import { CONVEX_DATA_DIRECTORY, ConvexDataVolume } from './data-volume';
import { DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB } from './fargate-sizes';
import { BACKEND_IMAGE_REPOSITORY, DASHBOARD_IMAGE_REPOSITORY, DEFAULT_CONVEX_IMAGE_TAG, imageReference, isImageDigest } from './images';
import { InstanceSecret } from './instance-secret';
import { ConvexLogGroup } from './log-group';
import { LOCAL_CLOUD_ORIGIN, LOCAL_SITE_ORIGIN } from './origins';
import { MAX_FARGATE_STOP_TIMEOUT_SECONDS, checkTaskDefinitionProps, logGroupKey, warnAboutTaskDefinitionProps } from './task-definition-checks';

export * from './backend-ports';
export * from './convex-backend-task-definition-props';
export { originProblems } from './origins';

const ENVIRONMENT_VARIABLES_REASON = 'The plain environment variables hold no secrets: the region, the five bucket names, the strict S3 booleans, INSTANCE_NAME, the public origins and on/off flags, all of them also visible as stack outputs. INSTANCE_SECRET and the database URL come from Secrets Manager through the container\'s secrets, and no AWS access key is set: the task role holds the access policy.';

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
    this.instanceSecret = props.instanceSecret ?? new InstanceSecret(this, 'InstanceSecret', {
      encryptionKey: storageKeyElsewhere ? kms.Key.fromKeyArn(this, 'StorageKey', storageKey.keyArn) : storageKey,
      removalPolicy,
    }).secret;
    if (storageKeyElsewhere && !props.instanceSecret) {
      grantDecryptThroughSecretsManager(this.executionRole, storageKey, stack.region, stack.urlSuffix);
    }

    const secrets: Record<string, ecs.Secret> = {
      [INSTANCE_SECRET]: ecs.Secret.fromSecretsManager(this.instanceSecret, props.instanceSecretField),
    };
    if (props.database) {
      const variable = props.database.engine === ConvexDatabaseEngine.MYSQL ? MYSQL_URL : POSTGRES_URL;
      secrets[variable] = ecs.Secret.fromSecretsManager(props.database.urlSecret, props.database.urlSecretField);
      const key = props.database.urlSecretEncryptionKey;
      if (key) {
        grantDecryptThroughSecretsManager(this.executionRole, key, props.database.urlSecret.env.region, stack.urlSuffix);
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
}

/** Lets `role` decrypt with `key`, in its own policy, only through Secrets Manager in `region`. */
function grantDecryptThroughSecretsManager(role: iam.IRole, key: kms.IKey, region: string, urlSuffix: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.${urlSuffix}` } },
  }));
}

/** The storage environment without credentials: with a task role, keys would take precedence. */
function withoutCredentials(environment: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !CREDENTIAL_VARS.includes(name)));
}
