import { ArnFormat, Fn, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_wafv2 as wafv2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';

/**
 * The AWS managed rule groups the web ACL uses. Chosen because none of them limits body size:
 * `npx convex deploy` pushes and file uploads send bodies of many megabytes, and a body-size rule
 * would block them. The Core rule set (`AWSManagedRulesCommonRuleSet`) is left out on purpose:
 * its `SizeRestrictions_BODY` blocks bodies over 8 KB, and its cross-site-scripting and
 * path rules inspect JSON function arguments, which hold arbitrary user data.
 */
export const WEB_ACL_MANAGED_RULE_GROUPS = [
  { name: 'AWSManagedRulesAmazonIpReputationList', why: 'addresses Amazon threat intelligence lists as sources of bots and attacks' },
  { name: 'AWSManagedRulesKnownBadInputsRuleSet', why: 'request patterns known to exploit vulnerabilities (Log4j, Java deserialization, exploitable paths, Host: localhost)' },
] as const;

/** Requests per IP address in any 5-minute window above which that address is blocked. */
export const DEFAULT_RATE_LIMIT_PER_FIVE_MINUTES = 6000;

/** Properties of {@link ConvexWebAcl}. */
export interface ConvexWebAclProps {
  /** ARN of the load balancer the web ACL protects. */
  readonly loadBalancerArn: string;

  /**
   * Requests one IP address may send in any 5-minute window before it is blocked for a while.
   * A WebSocket counts once, when it opens.
   *
   * @default 6000
   */
  readonly rateLimitPerFiveMinutes?: number;

  /**
   * Key of the log group of blocked and counted requests; its policy must let CloudWatch Logs
   * use it (a key of this app gets the statement).
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Retention of the firewall's logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the firewall's logs when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A regional WAF web ACL for the backend's load balancer: a per-IP rate limit and AWS managed
 * rules against known-bad inputs and bad IP addresses, and no rule that limits body size or
 * inspects function arguments. Blocked and counted requests are logged to CloudWatch Logs.
 */
export class ConvexWebAcl extends Construct {
  /** The web ACL. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** The log group of blocked and counted requests. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ConvexWebAclProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const metric = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: name,
      sampledRequestsEnabled: true,
    });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'RateLimitPerIp',
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            limit: props.rateLimitPerFiveMinutes ?? DEFAULT_RATE_LIMIT_PER_FIVE_MINUTES,
            aggregateKeyType: 'IP',
            evaluationWindowSec: 300,
          },
        },
        visibilityConfig: metric('RateLimitPerIp'),
      },
      ...WEB_ACL_MANAGED_RULE_GROUPS.map((group, index): wafv2.CfnWebACL.RuleProperty => ({
        name: group.name,
        priority: index + 1,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: group.name } },
        visibilityConfig: metric(group.name),
      })),
    ];
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // CloudFormation allows no parentheses or quotes here.
      description: 'Convex backend: per-IP rate limit, known-bad inputs, IP reputation. No body-size rule: deploy pushes and uploads are large',
      visibilityConfig: metric('ConvexBackend'),
      rules,
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF writes only to log groups whose name starts with aws-waf-logs-; the stack ID part keeps
    // the name unique per stack and never that of a group an earlier, deleted stack left behind.
    const stackIdPart = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-convex-${stackIdPart}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const key = props.logEncryptionKey;
    if (key) {
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForConvexFirewallLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:aws-waf-logs-convex-*` } },
      }));
      this.logGroup.node.addDependency(key);
    } else {
      acknowledgeComplianceRule(this.logGroup, 'CloudWatchLogGroupEncrypted', 'The firewall log holds the metadata of blocked and counted requests (address, method, URI, headers; never the body). CloudWatch Logs encrypts every log group at rest with its own keys; with encryption kms the group uses the storage\'s key.');
    }
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The group's ARN without the `:*` that logGroupArn carries: WAF rejects that form.
      logDestinationConfigs: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      // Allowed requests are in the load balancer's access logs already.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [{
          Behavior: 'KEEP',
          Requirement: 'MEETS_ANY',
          Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
        }],
      },
    });
  }
}
