/**
 * Scheduled backups in the app: `backupSchedule` and `backupRetentionDays` on the service
 * (the service-backups variant, synthesized once with cdk-nag and Control Tower), and the
 * context checks that name the setting and the fix.
 */
import { readAppConfig } from '../../lib/app/app-config';
import { BACKUP_FUNCTION_ENV, BACKUP_METRICS } from '../../lib/backups/backup-settings';
import { testApp } from '../helpers/cdk-app';
import { synthesizedVariant } from '../helpers/variants';

const HTTPS = { service: 'true', domainName: 'convex.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012' };

describe('the service-backups variant', () => {
  const variant = synthesizedVariant('service-backups');
  const resources = Object.entries(variant.templateJson.Resources as Record<string, any>);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);

  test('a daily cron invokes the backup function, which calls the service\'s HTTPS URL from its VPC and keeps 30 days', () => {
    const [[, schedule]] = ofType('AWS::Scheduler::Schedule');
    expect(schedule.Properties.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    const [, fn] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('BackupsFunction'))!;
    const env = fn.Properties.Environment.Variables;
    expect(env[BACKUP_FUNCTION_ENV.apiUrl]).toBe('https://api.convex.example.com');
    expect(env[BACKUP_FUNCTION_ENV.retentionDays]).toBe('30');
    expect(env[BACKUP_FUNCTION_ENV.instanceName]).toBe('convex-self-hosted');
    // The same secret the backend's task definition injects as INSTANCE_SECRET.
    const [[, td]] = ofType('AWS::ECS::TaskDefinition').filter(([id]) => id.startsWith('BackendTaskDefinition'));
    const injected = td.Properties.ContainerDefinitions[0].Secrets.find((s: any) => s.Name === 'INSTANCE_SECRET').ValueFrom;
    expect(env[BACKUP_FUNCTION_ENV.instanceSecretArn]).toEqual(injected);
    expect(fn.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    expect(variant.templateJson.Outputs).toHaveProperty('BackupFunctionName');
    expect(variant.templateJson.Outputs).toHaveProperty('BackupLogGroupName');
  });

  test('its alarms notify the service\'s alarm topic; the missed-backup alarm watches 49 hours', () => {
    const topicArn = variant.templateJson.Outputs.AlarmTopicArn.Value;
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('Backups')).map(([, a]) => a.Properties);
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([topicArn]);
    expect(alarms.find((a) => a.MetricName === BACKUP_METRICS.confirmed)).toMatchObject({ EvaluationPeriods: 49 });
  });

  test('the log group and the dead-letter queue use the storage key', () => {
    const key = ofType('AWS::KMS::Key').map(([id]) => id).find((id) => id.startsWith('StorageEncryptionKey'))!;
    const [, logs] = ofType('AWS::Logs::LogGroup').find(([id]) => id.startsWith('BackupsLogs'))!;
    const [, queue] = ofType('AWS::SQS::Queue').find(([id]) => id.startsWith('BackupsDeadLetterQueue'))!;
    expect(logs.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
  });
});

describe('context checks', () => {
  const error = (context: Record<string, string>) => {
    try {
      readAppConfig(testApp(context));
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  test('backups need the service, over HTTPS', () => {
    expect(error({ backupSchedule: 'rate(1 day)' })).toContain('backupSchedule: scheduled backups need the running service (-c service=true)');
    expect(error({ backupSchedule: 'rate(1 day)', service: 'true' })).toContain('backupSchedule: the service serves plain HTTP');
    expect(error({ backupSchedule: 'rate(1 day)', ...HTTPS })).toBe('');
  });

  test('the schedule, the retention and its fit with exportsRetentionDays, in one round', () => {
    const message = error({ ...HTTPS, backupSchedule: 'rate(10 minutes)', backupRetentionDays: '30' });
    expect(message).toContain("backupSchedule: 'rate(10 minutes)' is more often than once an hour");
    expect(message).toContain('exportsRetentionDays is 45, but backupRetentionDays 30 needs at least 60');
    expect(error({ ...HTTPS, backupSchedule: 'rate(1 day)', backupRetentionDays: '30', exportsRetentionDays: '60' })).toBe('');
    expect(error({ ...HTTPS, backupSchedule: 'rate(1 day)', backupRetentionDays: '300', layout: 'single' })).toBe('');
    expect(error({ backupRetentionDays: '30' })).toContain('backupRetentionDays: only applies with backupSchedule');
  });

  test('read into the app config', () => {
    expect(readAppConfig(testApp({ ...HTTPS, backupSchedule: 'cron(0 3 * * ? *)' })).backups).toEqual({ schedule: 'cron(0 3 * * ? *)', retentionDays: 14 });
  });
});
