import { RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';

/** Properties of {@link ConvexLogGroup}. */
export interface ConvexLogGroupProps {
  /** How long the logs are kept. */
  readonly retention: logs.RetentionDays;
  /**
   * Customer-managed key of the log group. A statement that lets CloudWatch Logs of this account
   * and region use it is added to its key policy (a no-op for an imported key: add it yourself).
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** What happens to the logs when the group leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** What the group holds, for the acknowledgment when no key is given. */
  readonly purpose: string;
}

/**
 * A CloudWatch Logs group with a retention, encrypted with a customer-managed key when one is
 * given. CloudWatch Logs only uses a key whose policy allows its regional service principal;
 * the condition limits that to log groups of this account and region. (The exact log group ARN
 * cannot be named: the key policy would then depend on the group, which depends on the key.)
 */
export class ConvexLogGroup extends Construct {
  /** The log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ConvexLogGroupProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.retention,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    });
    const key = props.encryptionKey;
    if (key) {
      const stack = Stack.of(this);
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
        },
      }));
      // The key policy must allow CloudWatch Logs before the group is created with the key.
      this.logGroup.node.addDependency(key);
    } else {
      acknowledgeComplianceRule(this.logGroup, 'CloudWatchLogGroupEncrypted', `${props.purpose} CloudWatch Logs encrypts every log group at rest with its own keys. This deployment chose encryption s3, so no customer-managed key exists; with encryption kms the group uses the storage's key, for key-usage audit and revocation.`);
    }
  }
}
