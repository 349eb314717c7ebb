import { Fn, RemovalPolicy, Stack, Token, aws_iam as iam, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { isKept, retainedWithDeletedKeyProblem } from './key-retention';

/** Properties of {@link ConvexLogGroup}. */
export interface ConvexLogGroupProps {
  /** How long the logs are kept. */
  readonly retention: logs.RetentionDays;
  /**
   * Customer-managed key of the log group. A statement that lets CloudWatch Logs use it for the
   * log groups under `/convex/<stack name>/` is added to its key policy (a no-op for an imported
   * key: add it yourself). A key this stack would delete is rejected unless the log group is
   * deleted too (`removalPolicy: RemovalPolicy.DESTROY`).
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
 * given.
 *
 * The group is named `/convex/<stack name>/<construct path>-<stack id>`, where `<stack id>` is the
 * first part of the stack's unique ID: known before deployment except for that part, and never
 * the name of a group an earlier, deleted copy of the stack left behind. CloudWatch Logs only
 * uses a key whose policy allows its regional service principal; the statement added to the key
 * policy is limited, through the `kms:EncryptionContext:aws:logs:arn` condition, to log groups
 * under `/convex/<stack name>/`. (The exact ARN cannot be named: the key policy would then depend
 * on the group, which depends on the key.)
 */
export class ConvexLogGroup extends Construct {
  /** The log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ConvexLogGroupProps) {
    super(scope, id);
    const key = props.encryptionKey;
    const problem = isKept(props.removalPolicy) ? retainedWithDeletedKeyProblem('the log group', `removalPolicy '${props.removalPolicy}'`, key) : undefined;
    if (problem) throw new Error(`Invalid ConvexLogGroup properties at ${this.node.path}: ${problem}`);

    const stack = Stack.of(this);
    const namePrefix = convexLogGroupNamePrefix(stack);
    const pathInStack = this.node.scopes.slice(stack.node.scopes.length).map((c) => c.node.id).join('-').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 200);
    // arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>: the uuid's first group.
    const stackIdPart = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `${namePrefix}${pathInStack}-${stackIdPart}`,
      retention: props.retention,
      encryptionKey: key,
      removalPolicy: props.removalPolicy,
    });
    if (key) {
      const stackNameId = Token.isUnresolved(stack.stackName) ? '' : stack.stackName.replace(/[^A-Za-z0-9]/g, '');
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: `AllowCloudWatchLogsForConvexLogGroupsOf${stackNameId}`,
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${namePrefix}*` },
        },
      }));
      // The key policy must allow CloudWatch Logs before the group is created with the key.
      this.logGroup.node.addDependency(key);
    } else {
      acknowledgeComplianceRule(this.logGroup, 'CloudWatchLogGroupEncrypted', `${props.purpose} CloudWatch Logs encrypts every log group at rest with its own keys. This deployment chose encryption s3, so no customer-managed key exists; with encryption kms the group uses the storage's key, for key-usage audit and revocation.`);
    }
  }
}

/** The name prefix of every {@link ConvexLogGroup} in `stack`: `/convex/<stack name>/`. */
export function convexLogGroupNamePrefix(stack: Stack): string {
  return `/convex/${stack.stackName}/`;
}
