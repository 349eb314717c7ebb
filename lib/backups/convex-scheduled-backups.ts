import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Annotations, Duration, RemovalPolicy, Stack, TimeZone, Token, Validations, aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_lambda as lambda,
  aws_logs as logs, aws_scheduler as scheduler, aws_scheduler_targets as targets, aws_secretsmanager as secretsmanager,
  aws_sns as sns, aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { adminKeyInstanceNameProblem } from '../admin-key/admin-key';
import { RESOURCE_STAR_ACTIONS, acknowledgeComplianceRule, acknowledgeWildcardFindings } from '../compliance';
import { ConvexLogGroup } from '../ecs/log-group';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import {
  BACKUP_FUNCTION_ENV, BACKUP_METRICS, DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS, DEFAULT_BACKUP_SCHEDULE, backupRetentionProblems,
  parseBackupSchedule,
} from './backup-settings';

/** Longest time a CloudWatch alarm with hourly periods can look back (7 days). */
const MAX_ALARM_WINDOW_HOURS = 7 * 24;

/** Properties of {@link ConvexScheduledBackups}. */
export interface ConvexScheduledBackupsProps {
  /**
   * The backend's API URL (`CONVEX_CLOUD_ORIGIN`), `https://...`. The function sends an admin
   * key to it, so plain HTTP is refused: give the service a certificate.
   */
  readonly apiUrl: string;

  /** The backend's `INSTANCE_NAME`: the admin key is issued for it. */
  readonly instanceName: string;

  /** The secret holding the backend's `INSTANCE_SECRET`; the function may read this secret only. */
  readonly instanceSecret: secretsmanager.ISecret;

  /**
   * JSON field of `instanceSecret` that holds the value.
   *
   * @default - the whole secret value
   */
  readonly instanceSecretField?: string;

  /**
   * When backups run: an EventBridge Scheduler `rate(...)` (at least an hour) or `cron(...)`
   * expression.
   *
   * @default 'rate(1 day)'
   */
  readonly schedule?: string;

  /**
   * Time zone of a `cron(...)` schedule.
   *
   * @default TimeZone.ETC_UTC
   */
  readonly timeZone?: TimeZone;

  /**
   * Days the backend keeps each backup (its expiration is moved to the export's time plus this).
   *
   * @default 14 (the backend's own expiry)
   */
  readonly backupRetentionDays?: number;

  /**
   * Days after which the exports bucket's lifecycle deletes exports (`exportsRetentionDays` of
   * the storage; `Infinity` when nothing expires them). It must be at least the backup retention
   * (never less than 14) plus the backend's 30 days of grace, or the lifecycle deletes backups
   * the backend still lists.
   *
   * @default - the storage's default `exportsRetentionDays`
   */
  readonly exportsRetentionDays?: number;

  /**
   * Topic the alarms notify (the service's alarm topic).
   *
   * @default - no notification: the alarms only change state
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Run the function in this VPC (private subnets with egress to the API URL and Secrets
   * Manager), e.g. the backend's.
   *
   * @default - outside any VPC: HTTPS to the API URL over the internet
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of the function in `vpc`.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Key that encrypts the function's log group and dead-letter queue (its policy must let
   * CloudWatch Logs and, for the queue, EventBridge Scheduler use it; the construct adds the
   * statements to a key it can change).
   *
   * @default - CloudWatch Logs' and SQS's own encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * How long one run may wait for its export to finish (the function's timeout). A longer export
   * is confirmed by the next run.
   *
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;

  /**
   * How long without a confirmed backup raises the missed-backup alarm (at most 7 days, in whole
   * hours).
   *
   * @default - twice the schedule's interval plus an hour (a daily cron: 49 hours); no such alarm
   * when that is over 7 days or the interval of a cron expression is not known (synth warning)
   */
  readonly missedBackupAlarmAfter?: Duration;
}

/** The alarms of {@link ConvexScheduledBackups}. */
export interface ConvexBackupAlarms {
  /** A run failed (an export failed, the backend refused the key, it was unreachable). */
  readonly failed: cloudwatch.Alarm;
  /** An invocation could not be delivered or failed all its retries (the dead-letter queue holds it). */
  readonly deadLetters: cloudwatch.Alarm;
  /**
   * No backup was confirmed for `missedBackupAlarmAfter`.
   *
   * @default - none, when the window cannot be worked out or is over 7 days
   */
  readonly missed?: cloudwatch.Alarm;
}

/**
 * Scheduled snapshot exports of a self-hosted Convex backend, kept for a retention: an
 * EventBridge Scheduler schedule invokes a small function (Node.js 22, arm64) that reads the
 * instance secret, derives an admin key in memory, requests an export with file storage, and
 * confirms each completed export by moving its expiration to the retention. A failed, undelivered
 * or missed backup raises an alarm.
 */
export class ConvexScheduledBackups extends Construct {
  /** The backup function. */
  public readonly function: lambda.Function;
  /** The function's role: it reads the instance secret and writes its own logs, nothing else. */
  public readonly role: iam.Role;
  /** The schedule. */
  public readonly schedule: scheduler.Schedule;
  /** Invocations that could not be delivered or failed every retry. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The alarms. */
  public readonly alarms: ConvexBackupAlarms;
  /** Days the backend keeps each backup. */
  public readonly backupRetentionDays: number;

  constructor(scope: Construct, id: string, props: ConvexScheduledBackupsProps) {
    super(scope, id);
    const expression = props.schedule ?? DEFAULT_BACKUP_SCHEDULE;
    const { intervalHours, missedHours } = this.validate(props, expression);
    this.backupRetentionDays = props.backupRetentionDays ?? DEFAULT_SCHEDULED_BACKUP_RETENTION_DAYS;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.logGroup = new ConvexLogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy,
      purpose: 'The backup function\'s log group holds what each run did (export IDs and states); never the admin key or the secret.',
    }).logGroup;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: props.encryptionKey ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the backup schedule and function; a dead-letter queue of its own would never be read.' });
    if (!props.encryptionKey) {
      acknowledgeComplianceRule(this.deadLetterQueue, 'SQSQueueEncrypted', 'Encrypted at rest with SQS-managed keys; it holds only the scheduler\'s invocation events (no data, no secret). With encryption kms the storage key encrypts it.');
    }

    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the Convex backup function: reads the instance secret, writes its own logs',
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    props.instanceSecret.grantRead(this.role);
    if (props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole grants: Lambda manages the function's network
      // interfaces with the function's role; these actions support no resource-level scope.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: [...RESOURCE_STAR_ACTIONS],
        resources: ['*'],
      }));
    }

    this.function = new lambda.Function(this, 'Function', {
      description: `Scheduled Convex backups: requests a snapshot export with file storage and keeps it ${this.backupRetentionDays} days`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(backupFunctionAssetDir()),
      memorySize: 256,
      timeout: props.timeout ?? Duration.minutes(10),
      role: this.role,
      logGroup: this.logGroup,
      // One run at a time: the backend runs one export at a time anyway.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      environment: {
        [BACKUP_FUNCTION_ENV.apiUrl]: props.apiUrl,
        [BACKUP_FUNCTION_ENV.instanceName]: props.instanceName,
        [BACKUP_FUNCTION_ENV.instanceSecretArn]: props.instanceSecret.secretArn,
        ...(props.instanceSecretField ? { [BACKUP_FUNCTION_ENV.instanceSecretField]: props.instanceSecretField } : {}),
        [BACKUP_FUNCTION_ENV.retentionDays]: String(this.backupRetentionDays),
      },
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }) : undefined,
    });
    const policy = (this.role as ManagedPolicyRole).grantsPolicy;
    if (policy) {
      acknowledgeWildcardFindings(policy, policy.document, 'Lambda\'s network interface actions (ec2:*NetworkInterface*) support no resource-level permissions, so AWS\'s own AWSLambdaVPCAccessExecutionRole grants them on *; the secret grant is CDK\'s grantRead of the one instance secret (its version-stage wildcard included).');
    }
    if (!props.vpc) {
      acknowledgeComplianceRule(this.function, 'LambdaInsideVPC', 'The function only calls out: HTTPS to the backend\'s public API URL (the admin key travels TLS-encrypted) and Secrets Manager. It has no inbound endpoint; pass vpc to run it in the backend\'s VPC.');
    }

    // The scheduler's own role (the target's default is an inline policy on a stack-wide role).
    const stack = Stack.of(this);
    const schedulerRole = new ManagedPolicyRole(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
      description: 'Lets EventBridge Scheduler invoke the Convex backup function and dead-letter what it cannot deliver',
    });
    props.encryptionKey?.grant(schedulerRole, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Convex backup of ${props.instanceName}`,
      schedule: scheduler.ScheduleExpression.expression(expression, props.timeZone),
      target: new targets.LambdaInvoke(this.function, {
        role: schedulerRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
    const schedulerPolicy = schedulerRole.grantsPolicy;
    if (schedulerPolicy) {
      acknowledgeWildcardFindings(schedulerPolicy, schedulerPolicy.document, 'CDK\'s grantInvoke of the one backup function: its ARN and <function ARN>:* (its versions and aliases), nothing else.');
    }
    // Pinned, not the newest runtime: the bundle is built for and tested on Node.js 22.
    Validations.of(this.function).acknowledge({ id: 'AwsSolutions-L1', reason: 'The function is pinned to Node.js 22, an LTS line Lambda supports, because its bundle (assets/backup-function, esbuild target node22) and its tests are made for it; moving to a newer runtime is a deliberate change of the bundle target, not an automatic one.' });

    this.alarms = this.createAlarms(props, missedHours, intervalHours);
  }

  private createAlarms(props: ConvexScheduledBackupsProps, missedHours: number | undefined, intervalHours: number | undefined): ConvexBackupAlarms {
    const failed = new cloudwatch.Alarm(this, 'FailedAlarm', {
      alarmDescription: `A Convex backup run of ${props.instanceName} failed: an export failed, or the backend refused the admin key or could not be reached. See the log group ${this.logGroup.logGroupName}.`,
      metric: this.function.metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const deadLetters = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `A Convex backup run of ${props.instanceName} could not be delivered or failed all its retries: the dead-letter queue holds it.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    let missed: cloudwatch.Alarm | undefined;
    if (missedHours !== undefined) {
      missed = new cloudwatch.Alarm(this, 'MissedAlarm', {
        alarmDescription: `No Convex backup of ${props.instanceName} was confirmed for ${missedHours} hours${intervalHours ? ` (the schedule runs every ${intervalHours} hours)` : ''}.`,
        metric: new cloudwatch.Metric({
          namespace: BACKUP_METRICS.namespace,
          metricName: BACKUP_METRICS.confirmed,
          dimensionsMap: { [BACKUP_METRICS.dimension]: this.function.functionName },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.hours(1),
        }),
        threshold: 1,
        evaluationPeriods: missedHours,
        datapointsToAlarm: missedHours,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No run, no data: that is the miss this alarm is for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }
    for (const alarm of [failed, deadLetters, missed]) {
      if (!alarm) continue;
      if (props.alarmTopic) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      } else {
        acknowledgeComplianceRule(alarm, 'CloudWatchAlarmAction', 'No alarm topic was given (the service creates one with alarmEmail): the alarm still changes state in the CloudWatch console and can be subscribed to later with alarmTopic.');
      }
    }
    return { failed, deadLetters, ...(missed ? { missed } : {}) };
  }

  /** Checks the props (every problem at once) and works out the missed-backup window. */
  private validate(props: ConvexScheduledBackupsProps, expression: string): { intervalHours?: number; missedHours?: number } {
    const problems: string[] = [];
    const url = props.apiUrl;
    if (!Token.isUnresolved(url) || /^https?:\/\//.test(url)) {
      if (!url.startsWith('https://')) {
        problems.push(`apiUrl: ${Token.isUnresolved(url) ? `the URL (${url.split('$')[0]}<known at deployment>)` : `'${url}'`} is not an https:// URL. The backup function sends an admin key (a credential that never expires) in every request, so it must travel over TLS: give the service a certificate (hostedZone or certificate) and use its https:// API URL.`);
      } else if (!Token.isUnresolved(url)) {
        const parsed = safeUrl(url);
        if (!parsed || parsed.username || parsed.password || parsed.search || parsed.hash || (parsed.pathname !== '/' && parsed.pathname !== '')) {
          problems.push(`apiUrl: '${url}' must be the backend's origin only, https://host[:port], without path, query or credentials (CONVEX_CLOUD_ORIGIN).`);
        }
      }
    } else {
      Annotations.of(this).addWarningV2('cdk-convex-storage:backup-url-unchecked', 'apiUrl is not known until deployment, so this construct cannot check that it is https://: make sure it is, since the backup function sends an admin key to it.');
    }
    if (!Token.isUnresolved(props.instanceName)) {
      const problem = adminKeyInstanceNameProblem(props.instanceName);
      if (problem) problems.push(`instanceName: ${problem}`);
    }
    let intervalHours: number | undefined;
    if (!Token.isUnresolved(expression)) {
      const parsed = parseBackupSchedule(expression);
      if ('problem' in parsed) problems.push(`schedule: ${parsed.problem}`);
      else intervalHours = parsed.intervalHours;
    }
    const retention = props.backupRetentionDays;
    const exportsRetention = props.exportsRetentionDays;
    if ((retention === undefined || !Token.isUnresolved(retention)) && (exportsRetention === undefined || !Token.isUnresolved(exportsRetention))) {
      problems.push(...backupRetentionProblems({ backupRetentionDays: retention, exportsRetentionDays: exportsRetention }));
    }
    const timeout = props.timeout;
    if (timeout && !timeout.isUnresolved() && (timeout.toSeconds() < 60 || timeout.toSeconds() > 900)) {
      problems.push(`timeout: ${timeout.toHumanString()} is outside 1 to 15 minutes (Lambda's limit is 15; a run needs a minute for its requests).`);
    }
    let missedHours: number | undefined;
    if (props.missedBackupAlarmAfter && !props.missedBackupAlarmAfter.isUnresolved()) {
      const hours = props.missedBackupAlarmAfter.toHours({ integral: false });
      if (!Number.isInteger(hours) || hours < 1 || hours > MAX_ALARM_WINDOW_HOURS) {
        problems.push(`missedBackupAlarmAfter: ${props.missedBackupAlarmAfter.toHumanString()} must be whole hours from 1 to 168 (7 days, the longest a CloudWatch alarm looks back).`);
      } else {
        missedHours = hours;
      }
    } else if (intervalHours !== undefined) {
      const window = Math.ceil(2 * intervalHours + 1);
      if (window <= MAX_ALARM_WINDOW_HOURS) missedHours = window;
      else Annotations.of(this).addWarningV2('cdk-convex-storage:missed-backup-alarm-off', `No missed-backup alarm: the schedule runs every ${intervalHours} hours, and two intervals are longer than the 7 days a CloudWatch alarm can look back. Failed runs still alarm; check the backups yourself, or back up more often.`);
    } else if (problems.length === 0) {
      Annotations.of(this).addWarningV2('cdk-convex-storage:missed-backup-alarm-off', `No missed-backup alarm: how often '${expression}' runs is not worked out here. Set missedBackupAlarmAfter (e.g. Duration.hours(25) for a daily cron) to get one.`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid ConvexScheduledBackups properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    return { intervalHours, missedHours };
  }
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * The directory of the bundled function (`assets/backup-function`, made by `npm run bundle`),
 * from the sources (`lib/backups`) or the compiled package (`dist/lib/backups`).
 */
export function backupFunctionAssetDir(): string {
  const candidates = [join(__dirname, '..', '..', 'assets', 'backup-function'), join(__dirname, '..', '..', '..', 'assets', 'backup-function')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.js')));
  if (!found) throw new Error(`The bundled backup function is missing (looked in ${candidates.join(', ')}): run npm run bundle.`);
  return found;
}
