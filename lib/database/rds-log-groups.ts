import { RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';

/** Properties of {@link RdsLogGroups}. */
export interface RdsLogGroupsProps {
  /** The DB instance identifier: RDS writes to `/aws/rds/instance/<identifier>/<log>`. */
  readonly instanceIdentifier: string;
  /** The logs the instance exports (`postgresql`, `upgrade`). */
  readonly exports: readonly string[];
  /** How long the logs are kept. */
  readonly retention: logs.RetentionDays;
  /**
   * Customer-managed key of the groups; a statement that lets CloudWatch Logs use it for this
   * instance's groups is added to its key policy (a no-op for an imported key).
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** What happens to the logs when the groups leave the stack. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The log groups an RDS instance exports to, created ahead of the instance so they have a
 * retention and the storage's key. (Left to RDS, they would never expire and could not use a
 * customer-managed key; aws-cdk-lib's `cloudwatchLogsRetention` would add a Lambda function.)
 * RDS writes into a group of the right name that already exists.
 */
export class RdsLogGroups extends Construct {
  /** The log groups, by exported log. */
  public readonly logGroups: Readonly<Record<string, logs.LogGroup>>;

  constructor(scope: Construct, id: string, props: RdsLogGroupsProps) {
    super(scope, id);
    const prefix = `/aws/rds/instance/${props.instanceIdentifier}/`;
    const key = props.encryptionKey;
    const stack = Stack.of(this);
    if (key) {
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForTheConvexDatabaseLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${prefix}*` },
        },
      }));
    }
    const groups: Record<string, logs.LogGroup> = {};
    for (const name of props.exports) {
      const group = new logs.LogGroup(this, name, {
        logGroupName: `${prefix}${name}`,
        retention: props.retention,
        encryptionKey: key,
        removalPolicy: props.removalPolicy,
      });
      if (key) {
        group.node.addDependency(key);
      } else {
        acknowledgeComplianceRule(group, 'CloudWatchLogGroupEncrypted', 'The database\'s exported logs (server messages, errors, slow statements, upgrade output) hold no credentials: the backend\'s password is never logged. CloudWatch Logs encrypts every log group at rest with its own keys. This deployment chose encryption s3, so no customer-managed key exists; with encryption kms the group uses the storage\'s key, for key-usage audit and revocation.');
      }
      groups[name] = group;
    }
    this.logGroups = groups;
  }
}
