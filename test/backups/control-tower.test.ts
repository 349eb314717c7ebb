/**
 * ConvexScheduledBackups against AWS Control Tower's proactive controls (cfn-guard), on its own
 * resources: with the service's alarm topic, VPC and key only the dead-letter queue's own
 * "has a dead-letter queue" control fails (it is the dead-letter queue); without them, the three
 * controls those props satisfy fail too. The app variant with backups is checked by
 * test/security/control-tower.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, aws_ec2 as ec2, aws_kms as kms, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexScheduledBackups, type ConvexScheduledBackupsProps } from '../../lib/backups/convex-scheduled-backups';
import { InstanceSecret } from '../../lib/ecs/instance-secret';
import { testOutdir, unitTestStack } from '../helpers/cdk-app';
import { runControlTower } from '../helpers/control-tower';

async function findings(extra: (stack: Stack) => Partial<ConvexScheduledBackupsProps>): Promise<string[]> {
  const stack = unitTestStack();
  new ConvexScheduledBackups(stack, 'Backups', {
    apiUrl: 'https://api.convex.example.com', instanceName: 'acme', instanceSecret: new InstanceSecret(stack, 'InstanceSecret').secret, ...extra(stack),
  });
  const file = join(testOutdir(), 'backups.template.json');
  writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON()));
  return (await runControlTower(file)).filter((f) => f.logicalId.startsWith('Backups')).map((f) => `${f.rule} on ${f.logicalId.replace(/[0-9A-F]{8}$/, '')}`).sort();
}

test('with the service\'s topic, VPC and key: only the dead-letter queue\'s own dead-letter control', async () => {
  expect(await findings((s) => ({
    alarmTopic: new sns.Topic(s, 'Topic'),
    vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 }),
    encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }),
  }))).toEqual(['ct-sqs-pr-1 on BackupsDeadLetterQueue']);
});

test('without them: alarm actions, log group key and VPC placement fail as well', async () => {
  expect(await findings(() => ({}))).toEqual([
    'ct-cloudwatch-pr-1 on BackupsDeadLetterAlarm',
    'ct-cloudwatch-pr-1 on BackupsFailedAlarm',
    'ct-cloudwatch-pr-1 on BackupsMissedAlarm',
    'ct-cloudwatch-pr-3 on BackupsLogsLogGroup',
    'ct-lambda-pr-3 on BackupsFunction',
    'ct-sqs-pr-1 on BackupsDeadLetterQueue',
  ]);
});
