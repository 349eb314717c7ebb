import { Stack, Token, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULT_TRUSTED_PRINCIPAL, servicePrincipalProblems } from './access-options';
import { ConvexStorage } from '../storage/convex-storage';

const EC2_PRINCIPAL = 'ec2.amazonaws.com';

/** Properties of {@link BackendRole}. */
export interface BackendRoleProps {
  /** The storage whose access policy the role gets. */
  readonly storage: ConvexStorage;

  /**
   * The service principal that assumes the role (where the backend runs).
   *
   * @default 'ecs-tasks.amazonaws.com'
   */
  readonly trustedPrincipal?: string;
}

/**
 * An IAM role for the backend, trusted by one AWS service, that holds the storage's access
 * policy and nothing else. The backend's AWS SDK picks its credentials up from the service
 * (ECS task role, EC2 instance profile...): no access key exists anywhere.
 */
export class BackendRole extends Construct {
  /** The role. */
  public readonly role: iam.Role;

  /** The instance profile that lets EC2 instances use the role, when EC2 is the trusted principal. */
  public readonly instanceProfile?: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: BackendRoleProps) {
    super(scope, id);
    const principal = props.trustedPrincipal ?? DEFAULT_TRUSTED_PRINCIPAL;
    if (!Token.isUnresolved(principal)) {
      const problems = servicePrincipalProblems(principal);
      if (problems.length > 0) {
        throw new Error(`Invalid BackendRole properties at ${this.node.path}: trustedPrincipal '${principal}' ${problems.join('; ')}.`);
      }
    }
    this.role = new iam.Role(this, 'Role', {
      description: `Role of a self-hosted Convex backend (assumed by ${principal}) with least-privilege access to its S3 storage`,
      assumedBy: new iam.ServicePrincipal(principal, {
        // ECS passes the account of the task and an ARN in its region to STS: only tasks of this
        // account and region can assume the role (confused-deputy protection recommended for
        // task roles). Other services given here (EC2 instance profiles, Lambda) send neither
        // key when they assume an execution role, so a condition would lock them out.
        conditions: principal === 'ecs-tasks.amazonaws.com'
          ? {
            StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
            ArnLike: { 'aws:SourceArn': `arn:${Stack.of(this).partition}:ecs:${Stack.of(this).region}:${Stack.of(this).account}:*` },
          }
          : undefined,
      }),
    });
    props.storage.grantBackendAccess(this.role);
    if (principal === EC2_PRINCIPAL) {
      // An instance gets a role only through an instance profile.
      this.instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', { role: this.role });
    }
  }
}
