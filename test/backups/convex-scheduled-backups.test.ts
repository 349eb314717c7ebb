/**
 * ConvexScheduledBackups: the schedule, the function (runtime, architecture, bounded
 * concurrency, dead-letter queue, log group, environment without secrets), a role that can read
 * only the instance secret, the alarms, the synth-time checks, and cdk-nag's four packs.
 */
import { Duration, RemovalPolicy, Stack, aws_ec2 as ec2, aws_kms as kms, aws_sns as sns } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConvexScheduledBackups, type ConvexScheduledBackupsProps } from '../../lib/backups/convex-scheduled-backups';
import { BACKUP_FUNCTION_ENV, BACKUP_METRICS, minimumExportsRetentionDays, parseBackupSchedule } from '../../lib/backups/backup-settings';
import { InstanceSecret } from '../../lib/ecs/instance-secret';
import { acknowledgmentsUnder, nagFindings, unitTestStack } from '../helpers/cdk-app';

function build(props: Partial<ConvexScheduledBackupsProps> = {}, setup?: (stack: Stack) => Partial<ConvexScheduledBackupsProps>) {
  const stack = unitTestStack();
  const secret = new InstanceSecret(stack, 'InstanceSecret').secret;
  const backups = new ConvexScheduledBackups(stack, 'Backups', {
    apiUrl: 'https://api.convex.example.com',
    instanceName: 'acme-prod',
    instanceSecret: secret,
    ...setup?.(stack),
    ...props,
  });
  return { stack, secret, backups, template: () => Template.fromStack(stack) };
}

/** Warnings recorded on `scope` and below (read from metadata: synthesis would print them). */
const warnings = (scope: IConstruct) => scope.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data)));
/** A resolved value as plain JSON. */
const plain = (stack: Stack, value: unknown) => JSON.parse(JSON.stringify(stack.resolve(value)));

describe('what it creates', () => {
  const built = build();
  const { stack, backups, secret } = built;
  const template = built.template();

  test('a daily schedule that invokes the function, with retries and the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: stack.resolve(backups.function.functionArn),
        DeadLetterConfig: { Arn: stack.resolve(backups.deadLetterQueue.queueArn) },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
  });

  test('a Node.js 22 arm64 function: one at a time, a dead-letter queue, its own log group; no secret in its environment', () => {
    const fn = template.findResources('AWS::Lambda::Function');
    const [props] = Object.values(fn).map((r: any) => r.Properties);
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', ReservedConcurrentExecutions: 1, Timeout: 600 });
    expect(props.DeadLetterConfig.TargetArn).toEqual(stack.resolve(backups.deadLetterQueue.queueArn));
    expect(props.LoggingConfig.LogGroup).toEqual(stack.resolve(backups.logGroup.logGroupName));
    expect(props.Environment.Variables).toEqual({
      [BACKUP_FUNCTION_ENV.apiUrl]: 'https://api.convex.example.com',
      [BACKUP_FUNCTION_ENV.instanceName]: 'acme-prod',
      [BACKUP_FUNCTION_ENV.instanceSecretArn]: plain(stack, secret.secretArn),
      [BACKUP_FUNCTION_ENV.retentionDays]: '14',
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  test('the role reads the instance secret and writes its log group, nothing else', () => {
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map((r: any) => r.Properties);
    const rolePolicy = policies.find((p) => JSON.stringify(p.Roles).includes('BackupsRole'));
    const statements = rolePolicy.PolicyDocument.Statement.map((s: any) => ({ Action: [].concat(s.Action).sort(), Resource: s.Resource }));
    expect(statements).toEqual(expect.arrayContaining([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: stack.resolve(backups.logGroup.logGroupArn) },
      { Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: plain(stack, secret.secretArn) },
      { Action: ['sqs:SendMessage'], Resource: stack.resolve(backups.deadLetterQueue.queueArn) },
    ].map((s) => expect.objectContaining(s))));
    expect(statements).toHaveLength(3);
    expect(JSON.stringify(template.findResources('AWS::IAM::Role'))).not.toContain('ManagedPolicyArns');
  });

  test('alarms: a failed run, a dead letter, no confirmed backup for two intervals and an hour', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r: any) => r.Properties);
    expect(alarms.find((a) => a.MetricName === 'Errors')).toMatchObject({ Namespace: 'AWS/Lambda', Threshold: 1, Statistic: 'Sum', Period: 3600, TreatMissingData: 'notBreaching' });
    expect(alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 1 });
    expect(alarms.find((a) => a.MetricName === BACKUP_METRICS.confirmed)).toMatchObject({
      Namespace: BACKUP_METRICS.namespace,
      Dimensions: [{ Name: BACKUP_METRICS.dimension, Value: plain(stack, backups.function.functionName) }],
      ComparisonOperator: 'LessThanThreshold', Threshold: 1, Period: 3600, EvaluationPeriods: 49, DatapointsToAlarm: 49, TreatMissingData: 'breaching',
    });
  });

  test('cdk-nag: no finding in the four packs, every acknowledgment with a reason', () => {
    expect(nagFindings(stack)).toEqual([]);
    for (const ack of acknowledgmentsUnder(backups)) {
      expect(ack.reason.length).toBeGreaterThan(60);
    }
  });
});

test('with the service\'s topic, VPC and key: alarms notify, the function runs in private subnets, logs and queue use the key', () => {
  const { stack, backups, template: synth } = build({ missedBackupAlarmAfter: Duration.hours(30), removalPolicy: RemovalPolicy.DESTROY }, (s) => ({
    alarmTopic: new sns.Topic(s, 'Alarms'),
    vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 }),
    encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }),
  }));
  const template = synth();
  const topic = stack.node.findChild('Alarms') as sns.Topic;
  for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r: any) => r.Properties)) {
    expect(alarm.AlarmActions).toEqual([plain(stack, topic.topicArn)]);
  }
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: BACKUP_METRICS.confirmed, EvaluationPeriods: 30 });
  const fn = template.findResources('AWS::Lambda::Function')[stack.getLogicalId(backups.function.node.defaultChild as any)] as any;
  expect(fn.Properties.VpcConfig.SubnetIds).toEqual(plain(stack, (stack.node.findChild('Vpc') as ec2.Vpc).privateSubnets.map((n) => n.subnetId)));
  template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
  template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue() });
  // The construct's own resources (the test's topic and VPC are not its business).
  expect(nagFindings(backups)).toEqual([]);
  expect(acknowledgmentsUnder(backups).map((a) => a.id)).not.toContainEqual(expect.stringContaining('LambdaInsideVPC'));
});

describe('synth-time checks', () => {
  const problems = (props: Partial<ConvexScheduledBackupsProps>) => {
    try {
      build(props);
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  test('exportsRetentionDays shorter than the retention plus the backend\'s 30-day grace is refused, with the numbers', () => {
    expect(minimumExportsRetentionDays(14)).toBe(44);
    expect(minimumExportsRetentionDays(7)).toBe(44);
    expect(minimumExportsRetentionDays(30)).toBe(60);
    const message = problems({ backupRetentionDays: 30, exportsRetentionDays: 45 });
    expect(message).toContain('exportsRetentionDays is 45, but backupRetentionDays 30 needs at least 60');
    expect(message).toContain('30 days after that (MAX_EXPIRED_SNAPSHOT_AGE_DAYS)');
    expect(message).toContain('Set exportsRetentionDays to 60 or more, or lower backupRetentionDays to 15.');
    expect(problems({ backupRetentionDays: 7, exportsRetentionDays: 40 })).toContain('never less than its own 14-day expiry');
    expect(problems({ backupRetentionDays: 30, exportsRetentionDays: 60 })).toBe('');
    expect(problems({ backupRetentionDays: 30, exportsRetentionDays: Number.POSITIVE_INFINITY })).toBe('');
    // The storage's default (45 days) holds the default retention (14 + 30).
    expect(problems({})).toBe('');
    expect(problems({ backupRetentionDays: 16 })).toContain('exportsRetentionDays is 45, but backupRetentionDays 16 needs at least 46');
  });

  test('every problem at once, each naming its setting', () => {
    const message = problems({ apiUrl: 'http://api.convex.example.com', schedule: 'rate(5 minutes)', instanceName: '', backupRetentionDays: 0, timeout: Duration.minutes(20) });
    expect(message).toContain("apiUrl: 'http://api.convex.example.com' is not an https:// URL");
    expect(message).toContain('schedule: \'rate(5 minutes)\' is more often than once an hour');
    expect(message).toContain('instanceName: INSTANCE_NAME is empty');
    expect(message).toContain('backupRetentionDays must be a whole number of days, 1 or more, not 0');
    expect(message).toContain('timeout: 20 minutes is outside 1 to 15 minutes');
    expect(problems({ apiUrl: 'https://api.convex.example.com/path' })).toContain('without path, query or credentials');
    expect(problems({ missedBackupAlarmAfter: Duration.days(8) })).toContain('must be whole hours from 1 to 168');
  });

  test.each([
    ['rate(1 day)', 24],
    ['rate(2 days)', 48],
    ['rate(6 hours)', 6],
    ['rate(1 hour)', 1],
    ['cron(0 3 * * ? *)', 24],
    ['cron(30 2 ? * SUN *)', 168],
    ['cron(0 */6 * * ? *)', undefined],
  ])('schedule %s runs every %s hours', (expression, hours) => {
    expect(parseBackupSchedule(expression)).toEqual({ expression, ...(hours === undefined ? {} : { intervalHours: hours }) });
  });

  test.each([
    ['rate(1 days)', 'singular for 1'],
    ['rate(2 day)', 'singular for 1'],
    ['rate(0 hours)', 'at least 1'],
    ['rate(30 minutes)', 'more often than once an hour'],
    ['cron(0 3 * * *)', 'has 5 fields'],
    ['cron(0 3 * * * *)', "exactly one of day-of-month and day-of-week must be '?'"],
    ['at(2026-12-24T00:00:00)', 'runs once'],
    ['daily', 'not an EventBridge Scheduler expression'],
  ])('schedule %s is refused: %s', (expression, message) => {
    const parsed = parseBackupSchedule(expression);
    expect('problem' in parsed && parsed.problem).toContain(message);
  });

  test('a weekly schedule and a cron of unknown interval get a warning instead of the missed-backup alarm', () => {
    for (const schedule of ['rate(7 days)', 'cron(0 */6 * * ? *)']) {
      const { backups } = build({ schedule });
      expect(backups.alarms.missed).toBeUndefined();
      expect(warnings(backups).join('\n')).toContain('No missed-backup alarm');
    }
    const { backups } = build({ schedule: 'cron(0 */6 * * ? *)', missedBackupAlarmAfter: Duration.hours(13) });
    expect(backups.alarms.missed).toBeDefined();
  });
});
