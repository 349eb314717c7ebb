import { CfnOutput, RemovalPolicy, Stack, StackProps, Tags, Token, aws_certificatemanager as acm, aws_iam as iam, aws_kms as kms, aws_route53 as route53 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackendAccessMode, accessSettingsProblems } from '../access/access-options';
import { renderBackendDotEnv } from '../access/backend-dotenv';
import { BackendRole } from '../access/backend-role';
import { BackendUser } from '../access/backend-user';
import { sourceIpListProblems } from '../access/network-options';
import { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, describeVariable, outputKeyFor, secretArnOutputKeyFor } from '../backend-env';
import { ConvexStorage, ConvexStorageProps, StorageLayout } from '../storage/convex-storage';
import { DEFAULT_BACKUP_SCHEDULE } from '../backups/backup-settings';
import { ConvexScheduledBackups } from '../backups/convex-scheduled-backups';
import { ConvexBackend, ConvexBackendOptions, importDatabaseSecret, outputBackend, outputDatabase } from '../ecs/convex-backend';
import { ConvexBackendService } from '../service/convex-backend-service';
import { ServiceHostSettings } from '../service/service-endpoints';
import { APPLICATION_TAG, tagProblems } from './stack-tags';

/**
 * How the app configures the running service (context `service=true`): the service's settings,
 * with the hosted zone and certificate by ID and ARN.
 */
export interface ConvexServiceOptions extends ServiceHostSettings {
  /**
   * ID of the Route 53 public hosted zone of the hosts; with `hostedZoneName`.
   *
   * @default - no hosted zone
   */
  readonly hostedZoneId?: string;
  /**
   * Name of that hosted zone; with `hostedZoneId`.
   *
   * @default - no hosted zone
   */
  readonly hostedZoneName?: string;
  /**
   * ARN of an ACM certificate for every host.
   *
   * @default - a DNS-validated certificate in the hosted zone
   */
  readonly certificateArn?: string;
  /**
   * CIDR blocks the dashboard is routed from.
   *
   * @default - none: the dashboard is not routed
   */
  readonly dashboardAllowedCidrs?: string[];
  /**
   * Route the dashboard from anywhere.
   *
   * @default false
   */
  readonly publicDashboard?: boolean;
  /**
   * The WAF web ACL.
   *
   * @default true
   */
  readonly waf?: boolean;
  /**
   * E-mail address the alarms notify.
   *
   * @default - no notifications
   */
  readonly alarmEmail?: string;
  /**
   * Deletion protection of the load balancer.
   *
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** Properties of {@link ConvexStorageStack}. */
export interface ConvexStorageStackProps extends StackProps {
  /**
   * The storage settings.
   *
   * @default - five separate SSE-S3 buckets with the construct's defaults
   */
  readonly storage?: ConvexStorageProps;

  /**
   * How the backend holds its access policy: a role trusted by `trustedPrincipal` (no keys
   * anywhere), or an IAM user whose access key secret is kept in Secrets Manager.
   *
   * @default BackendAccessMode.ROLE
   */
  readonly access?: BackendAccessMode;

  /**
   * The service principal the backend role trusts. Role mode only.
   *
   * @default 'ecs-tasks.amazonaws.com'
   */
  readonly trustedPrincipal?: string;

  /**
   * Serial of the IAM user's active access key; raising it issues a new key. User mode only.
   *
   * @default 1
   */
  readonly accessKeySerial?: number;

  /**
   * Serial of the previous access key, kept working during a rotation until the backends use
   * the new one. User mode only.
   *
   * @default - no previous key
   */
  readonly previousAccessKeySerial?: number;

  /**
   * Public CIDR blocks (e.g. `203.0.113.7/32`) the backend's IAM user may use its access key
   * from; its storage requests from anywhere else are denied (see `BackendUser`'s `sourceIps`).
   * User mode only: a role is confined to its VPC with `storage.backendVpcEndpointIds`.
   *
   * @default - the access key works from any address
   */
  readonly backendSourceIps?: string[];

  /**
   * Adds the backend's Fargate task definition on this storage (app context `ecs=true`).
   *
   * @default - no task definition
   */
  readonly backend?: ConvexBackendOptions;

  /**
   * Tags of the stack and of every resource in it that takes tags (AWS's rules: keys of 1 to 128
   * characters not starting with `aws:`, values of at most 256, at most 49 besides
   * `application`). Given here, they are in the template, so they reach every resource even
   * where CloudFormation's propagation of stack tags does not.
   *
   * @default - only `application: convex`
   */
  readonly tags?: { [key: string]: string };

  /**
   * Runs the backend as a service behind an HTTPS load balancer (app context `service=true`), with
   * the task definition of `backend`.
   *
   * @default - no service
   */
  readonly service?: ConvexServiceOptions;

  /**
   * Scheduled backups of the service's deployment (app context `backupSchedule`): snapshot
   * exports with file storage, kept `retentionDays`. Needs `service`.
   *
   * @default - no scheduled backups
   */
  readonly backups?: ConvexStackBackupOptions;
}

/** The scheduled backups of {@link ConvexStorageStack}. */
export interface ConvexStackBackupOptions {
  /**
   * EventBridge Scheduler expression.
   *
   * @default 'rate(1 day)'
   */
  readonly schedule?: string;
  /**
   * Days the backend keeps each backup.
   *
   * @default 14
   */
  readonly retentionDays?: number;
}

/**
 * A deployable stack with the storage of one Convex deployment, whose outputs are the
 * backend's environment.
 */
export class ConvexStorageStack extends Stack {
  /** The storage construct. */
  public readonly storage: ConvexStorage;

  /** How the backend holds its access policy. */
  public readonly access: BackendAccessMode;

  /** The backend role, in role mode without the ECS task definition (whose task role holds the policy then). */
  public readonly backendRole?: iam.Role;

  /** The backend's IAM user, access key and secret, in user mode. */
  public readonly backendUser?: BackendUser;

  /** The backend's task definition (and its VPC, if one was needed), when `backend` is given without `service`. */
  public readonly backend?: ConvexBackend;

  /** The running backend service, when `service` is given. */
  public readonly service?: ConvexBackendService;

  /** The scheduled backups, when `backups` is given. */
  public readonly backups?: ConvexScheduledBackups;

  constructor(scope: Construct, id: string, props: ConvexStorageStackProps = {}) {
    const tags = { [APPLICATION_TAG.key]: APPLICATION_TAG.value, ...props.tags };
    super(scope, id, { ...props, tags });
    const tagErrors = tagProblems('tags', props.tags ?? {});
    if (tagErrors.length > 0) {
      throw new Error(`Invalid ConvexStorageStack properties at ${this.node.path}:\n${tagErrors.map((p) => `  - ${p}`).join('\n')}`);
    }
    // Stack tags alone reach resources only through CloudFormation's propagation at deployment
    // (and with @aws-cdk/core:explicitStackTags, Tags.of(stack) no longer tags the stack itself).
    for (const [key, value] of Object.entries(tags)) {
      Tags.of(this).add(key, value);
    }
    this.storage = new ConvexStorage(this, 'Storage', props.storage);
    this.outputEnvironment(this.storage.backendEnvironment);

    this.access = props.access ?? BackendAccessMode.ROLE;
    const problems = accessSettingsProblems({
      mode: this.access,
      trustedPrincipal: props.trustedPrincipal,
      accessKeySerial: props.accessKeySerial,
      previousAccessKeySerial: props.previousAccessKeySerial,
      ecsTaskDefinition: props.backend !== undefined || props.service !== undefined,
      backendSourceIps: props.backendSourceIps,
      vpcEndpointRestricted: props.storage?.backendVpcEndpointIds !== undefined,
    });
    if (props.backendSourceIps !== undefined && !Token.isUnresolved(props.backendSourceIps)) {
      problems.push(...sourceIpListProblems('backendSourceIps', props.backendSourceIps, (cidr) => Token.isUnresolved(cidr)));
    }
    if (problems.length > 0) {
      throw new Error(`Invalid ConvexStorageStack properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    if (this.access === BackendAccessMode.USER) {
      this.backendUser = new BackendUser(this, 'BackendUser', {
        storage: this.storage,
        accessKeySerial: props.accessKeySerial,
        previousAccessKeySerial: props.previousAccessKeySerial,
        sourceIps: props.backendSourceIps,
      });
      new CfnOutput(this, outputKeyFor(AWS_ACCESS_KEY_ID), {
        value: this.backendUser.accessKey.accessKeyId,
        description: `${AWS_ACCESS_KEY_ID}: ${describeVariable(AWS_ACCESS_KEY_ID)} (key serial ${this.backendUser.accessKeySerial}; not secret)`,
      });
      new CfnOutput(this, secretArnOutputKeyFor(AWS_SECRET_ACCESS_KEY), {
        value: this.backendUser.secret.secretArn,
        description: `${AWS_SECRET_ACCESS_KEY}: ARN of the Secrets Manager secret whose JSON holds ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY}; the secret itself is never an output`,
      });
    } else if (!props.backend && !props.service) {
      // With the ECS task definition its task role holds the policy; a second role would be unused.
      const backendRole = new BackendRole(this, 'BackendRole', { storage: this.storage, trustedPrincipal: props.trustedPrincipal });
      this.backendRole = backendRole.role;
      if (backendRole.instanceProfile) {
        new CfnOutput(this, 'BackendInstanceProfileName', {
          value: backendRole.instanceProfile.instanceProfileName,
          description: 'Instance profile of the backend role: attach it to the EC2 instance that runs the backend',
        });
      }
      new CfnOutput(this, 'BackendRoleArn', {
        value: this.backendRole.roleArn,
        description: 'ARN of the role that holds the backend\'s storage access policy (use it as the ECS task role); no access keys exist',
      });
    }

    const dotEnv = renderBackendDotEnv(this.storage.backendEnvironment, {
      credentials: this.backendUser && { accessKeyId: this.backendUser.accessKey.accessKeyId, secretArn: this.backendUser.secret.secretArn },
    });
    new CfnOutput(this, 'DotEnv', {
      value: dotEnv,
      description: this.backendUser
        ? 'DotEnv: the backend\'s .env block; AWS_SECRET_ACCESS_KEY is a placeholder naming the secret to read it from (npx convex-storage env fills it in)'
        : 'DotEnv: the backend\'s .env block; credentials come from the backend role, so it holds no keys',
    });

    if (props.backups && !props.service) {
      throw new Error(`Invalid ConvexStorageStack properties at ${this.node.path}:\n  - backups: scheduled backups need the running service (service): the backup function calls its HTTPS API URL and reads its instance secret.`);
    }
    if (props.service) {
      this.service = this.addService(props.service, props.backend ?? {});
      if (props.backups) this.backups = this.addBackups(this.service, props.backups, props.storage ?? {}, props.backend?.removalPolicy);
    } else if (props.backend) {
      this.backend = new ConvexBackend(this, 'Backend', { ...props.backend, storage: this.storage });
    }
  }

  /**
   * The service, under the construct ID `Backend` like {@link ConvexBackend}: its task definition
   * and VPC have the same paths, so turning `service=true` on for a stack that had `ecs=true`
   * keeps the data volume, the instance secret and the log group.
   */
  private addService(settings: ConvexServiceOptions, backend: ConvexBackendOptions): ConvexBackendService {
    const { databaseUrlSecretArn, databaseUrlSecretKeyArn, databaseEngine, ...backendOptions } = backend;
    const { hostedZoneId, hostedZoneName, certificateArn, ...serviceOptions } = settings;
    const hostedZone = hostedZoneId !== undefined && hostedZoneName !== undefined
      ? route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', { hostedZoneId, zoneName: hostedZoneName })
      : undefined;
    const certificate = certificateArn === undefined ? undefined : acm.Certificate.fromCertificateArn(this, 'Certificate', certificateArn);
    const service = new ConvexBackendService(this, 'Backend', {
      ...backendOptions,
      ...serviceOptions,
      storage: this.storage,
      database: importDatabaseSecret(this, { databaseUrlSecretArn, databaseUrlSecretKeyArn, databaseEngine }),
      hostedZone,
      certificate,
    });
    outputBackend(service, service.backend, service.network, { ...backendOptions, runByService: true });
    const output = (key: string, value: string, description: string) => {
      new CfnOutput(service, key, { value, description }).overrideLogicalId(key);
    };
    if (service.database) {
      outputDatabase(service, service.database, service.securityGroup, backendOptions.removalPolicy);
    } else {
      output('BackendSecurityGroupId', service.securityGroup.securityGroupId, 'Security group of the backend tasks: let your database or endpoints in from it (the tasks accept only the load balancer)');
    }
    output('ApiUrl', service.apiUrl, 'CONVEX_CLOUD_ORIGIN: the public URL of the backend API (clients connect here)');
    output('SiteUrl', service.siteUrl, 'CONVEX_SITE_ORIGIN: the public URL of the HTTP actions');
    output('ConvexSelfHostedUrl', service.apiUrl, 'CONVEX_SELF_HOSTED_URL for npx convex deploy (with CONVEX_SELF_HOSTED_ADMIN_KEY)');
    if (service.dashboard) output('DashboardUrl', service.dashboardUrl, 'The Convex dashboard (log in with an admin key)');
    output('LoadBalancerDnsName', service.loadBalancer.loadBalancer.loadBalancerDnsName, 'DNS name of the load balancer: point the hosts at it when no hosted zone is given');
    output('BackendServiceName', service.service.serviceName, 'ECS service running the backend (one task)');
    output('BackendClusterName', service.cluster.clusterName, 'ECS cluster of the backend service');
    if (service.alarmTopic) output('AlarmTopicArn', service.alarmTopic.topicArn, 'SNS topic the alarms notify');
    return service;
  }

  /** Scheduled backups of the service, in its VPC, on its alarm topic, with the storage's key. */
  private addBackups(service: ConvexBackendService, options: ConvexStackBackupOptions, storage: ConvexStorageProps, removalPolicy: RemovalPolicy | undefined): ConvexScheduledBackups {
    const backups = new ConvexScheduledBackups(this, 'Backups', {
      apiUrl: service.apiUrl,
      instanceName: service.backend.instanceName,
      instanceSecret: service.instanceSecret,
      schedule: options.schedule,
      backupRetentionDays: options.retentionDays,
      // The single layout expires nothing: its one bucket holds user data too.
      exportsRetentionDays: this.storage.layout === StorageLayout.SINGLE ? Number.POSITIVE_INFINITY : storage.exportsRetentionDays,
      alarmTopic: service.alarmTopic,
      vpc: service.vpc,
      // Only a key whose policy this app writes (the log group's statement goes into it).
      encryptionKey: this.storage.encryptionKey instanceof kms.Key ? this.storage.encryptionKey : undefined,
      removalPolicy,
    });
    const output = (key: string, value: string, description: string) => {
      new CfnOutput(backups, key, { value, description }).overrideLogicalId(key);
    };
    output('BackupFunctionName', backups.function.functionName, `Scheduled backups (${options.schedule ?? DEFAULT_BACKUP_SCHEDULE}, kept ${backups.backupRetentionDays} days): run it by hand with aws lambda invoke --invocation-type Event`);
    output('BackupLogGroupName', backups.logGroup.logGroupName, 'Log group of the backup function: what each run requested, confirmed and extended');
    return backups;
  }

  /** One output per backend variable, keyed by the variable's PascalCase name. */
  private outputEnvironment(environment: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries(environment)) {
      new CfnOutput(this, outputKeyFor(name), { value, description: `${name}: ${describeVariable(name)}` });
    }
  }
}
