import { Stack, Validations, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Rule-ID prefixes of the compliance packs that share rule names (cdk-nag's NIST 800-53 rev 5,
 * HIPAA Security and PCI DSS 3.2.1 packs). A rule like `S3BucketLoggingEnabled` exists in each.
 */
export const COMPLIANCE_PACK_PREFIXES = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'] as const;

/**
 * Acknowledges one rule of the compliance packs on a construct, with one reason for all packs.
 *
 * Acknowledgments live next to the resource they are about, through aws-cdk-lib's own
 * `Validations` API, so this library needs no cdk-nag dependency at run time.
 */
export function acknowledgeComplianceRule(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge(...COMPLIANCE_PACK_PREFIXES.map((pack) => ({ id: `${pack}-${rule}`, reason })));
}

/**
 * The only actions {@link acknowledgeWildcardFindings} accepts on `Resource: '*'`: a Lambda
 * function's management of its own network interfaces in a VPC. Lambda creates the interfaces,
 * so their ARNs exist only afterwards, and the Describe calls support no resource at all; AWS's
 * own AWSLambdaVPCAccessExecutionRole grants exactly these on '*'. Any other action on '*'
 * throws.
 */
export const RESOURCE_STAR_ACTIONS: readonly string[] = [
  'ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses',
];

/**
 * Acknowledges, one finding at a time, the wildcards of `document` that cdk-nag's
 * AwsSolutions-IAM5 reports on `scope` (`AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]`,
 * `AwsSolutions-IAM5[Action::s3:GetObjectVersion*]`). A wildcard added later still fails
 * synthesis: only the ones present now are acknowledged.
 */
export function acknowledgeWildcardFindings(scope: IConstruct, document: iam.PolicyDocument, reason: string): void {
  const resolved = Stack.of(scope).resolve(document) as { Statement?: Array<{ Action?: unknown; Resource?: unknown }> } | undefined;
  const findings = new Set<string>();
  for (const statement of resolved?.Statement ?? []) {
    for (const action of ([] as unknown[]).concat(statement.Action ?? [])) {
      if (typeof action === 'string' && action.includes('*')) findings.add(`Action::${action}`);
    }
    for (const resource of ([] as unknown[]).concat(statement.Resource ?? [])) {
      const flat = flattenReference(resource);
      if (flat === '*' && !([] as unknown[]).concat(statement.Action ?? []).every((a) => typeof a === 'string' && RESOURCE_STAR_ACTIONS.includes(a))) {
        // Every resource of a service is never a reviewed exception: scope the statement instead.
        throw new Error(`acknowledgeWildcardFindings at ${scope.node.path}: a statement grants ${JSON.stringify(statement.Action)} on Resource '*', which is never acknowledged. Name the resource (a key ARN with kms:ViaService, a bucket ARN) instead.`);
      }
      if (flat.includes('*')) findings.add(`Resource::${flat}`);
    }
  }
  if (findings.size > 0) {
    Validations.of(scope).acknowledge(...[...findings].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })));
  }
}

/**
 * Flattens a resolved CloudFormation value the way cdk-nag names findings:
 * `{ "Fn::GetAtt": ["Bucket", "Arn"] }` -> `<Bucket.Arn>`, `{ Ref: "X" }` -> `<X>`, joins
 * concatenated, `${...}` in strings written `<...>`.
 */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flattenReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  return JSON.stringify(value);
}
