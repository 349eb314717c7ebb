import { aws_iam as iam } from 'aws-cdk-lib';

/**
 * The key-policy statement Control Tower's `ct-kms-pr-3` asks for: nobody may create a grant on
 * the key except for an AWS service acting on a resource (S3, Secrets Manager, EFS, RDS and SNS
 * create their own grants). A stolen credential with `kms:CreateGrant` cannot hand the key to an
 * outside principal.
 */
export function denyGrantsExceptForAwsResources(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsResources',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  });
}
