import { aws_iam as iam, aws_s3 as s3 } from 'aws-cdk-lib';

/**
 * The statements that keep the backend's own credentials usable only from where the backend
 * runs. Each one restricts the backend's principal and nothing else: a deny in a bucket policy
 * names it by `aws:PrincipalArn` (an ARN string, so it survives the role being recreated, unlike
 * a `Principal` element, which IAM stores as the role's unique ID), and a deny in an identity
 * policy lives in a policy attached only to the backend's own group.
 *
 * The account's root, its administrators, CloudFormation's deployment role and the console are
 * never named, so they keep working from anywhere.
 */

/** Sid of the bucket-policy statement that confines principals to VPC endpoints. */
export const VPC_ENDPOINT_DENY_SID = 'DenyBackendOutsideVpcEndpoints';

/** Sid of the identity-policy statement that confines the backend's IAM user to its addresses. */
export const SOURCE_IP_DENY_SID = 'DenyBackendOutsideSourceIps';

/** The two ARNs every S3 statement on a bucket covers: the bucket (ListBucket) and its objects. */
function bucketResources(buckets: readonly s3.IBucket[]): string[] {
  return buckets.flatMap((bucket) => [bucket.bucketArn, bucket.arnForObjects('*')]);
}

/**
 * The bucket-policy statement that denies `principalArns` every S3 request on `bucket` that does
 * not arrive through one of `vpcEndpointIds` (`aws:SourceVpce`, which S3 sets only for requests
 * through a VPC endpoint: a request from the internet, or from another VPC, has none and is
 * denied). Everything else about the request is left to the other policies.
 */
export function vpcEndpointDenyStatement(options: {
  readonly sid: string;
  readonly bucket: s3.IBucket;
  readonly principalArns: readonly string[];
  readonly vpcEndpointIds: readonly string[];
}): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: options.sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:*'],
    resources: bucketResources([options.bucket]),
    conditions: {
      ArnEquals: { 'aws:PrincipalArn': [...options.principalArns] },
      // Not copied: the list may be a lazy token that grows with later calls.
      StringNotEquals: { 'aws:SourceVpce': options.vpcEndpointIds },
    },
  });
}

/**
 * The identity-policy statement that denies every S3 request on `buckets` from an address
 * outside `sourceIps` (`aws:SourceIp`, the public address S3 sees). It goes in a policy of the
 * backend's own group, so it follows the permissions it restricts: every member of the group,
 * and nobody else.
 */
export function sourceIpDenyStatement(options: {
  readonly buckets: readonly s3.IBucket[];
  readonly sourceIps: readonly string[];
}): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: SOURCE_IP_DENY_SID,
    effect: iam.Effect.DENY,
    actions: ['s3:*'],
    resources: bucketResources(options.buckets),
    conditions: { NotIpAddress: { 'aws:SourceIp': [...options.sourceIps] } },
  });
}
