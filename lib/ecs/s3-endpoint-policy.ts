import { Stack, aws_iam as iam } from 'aws-cdk-lib';

/**
 * The policy of the S3 gateway endpoint in the backend's VPC: the most any request through the
 * endpoint may do, whoever signs it (an endpoint policy grants nothing by itself).
 *
 * - Any S3 request on buckets of this account (`aws:ResourceAccount`): the backend's five buckets
 *   and whatever else of the account runs in the VPC. A credential smuggled into the VPC cannot
 *   copy data out to a bucket of another account through the endpoint.
 * - `s3:GetObject` on `prod-<region>-starport-layer-bucket`, the AWS-owned bucket that serves
 *   Amazon ECR's image layers ("Minimum Amazon S3 bucket permissions for Amazon ECR" in the ECR
 *   user guide): without it an image mirrored to ECR (or pulled through an ECR pull-through
 *   cache) cannot be pulled, since the gateway endpoint's route catches every request to S3 in
 *   the region. The backend's own image comes from ghcr.io through the NAT gateway.
 *
 * Nothing else in the task needs S3: the awslogs driver writes to the CloudWatch Logs API,
 * secrets come from Secrets Manager, the data volume is EFS, and the backend's presigned module
 * URLs point at its own modules bucket.
 */
export function s3GatewayEndpointPolicyStatements(scope: Stack): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'BucketsOfThisAccount',
      principals: [new iam.StarPrincipal()],
      actions: ['s3:*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:ResourceAccount': scope.account } },
    }),
    new iam.PolicyStatement({
      sid: 'AmazonEcrImageLayers',
      principals: [new iam.StarPrincipal()],
      actions: ['s3:GetObject'],
      resources: [`arn:${scope.partition}:s3:::prod-${scope.region}-starport-layer-bucket/*`],
    }),
  ];
}
