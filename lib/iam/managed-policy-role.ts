import { aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Properties of {@link ManagedPolicyRole}. */
export interface ManagedPolicyRoleProps extends iam.RoleProps {
  /**
   * Description of the customer-managed policy that collects the role's grants.
   *
   * @default - the role's description
   */
  readonly policyDescription?: string;
}

/**
 * An IAM role whose grants land in one customer-managed policy instead of an inline default
 * policy.
 *
 * `grantX(role)` calls and the ECS task definition (log stream, secrets, EFS) add statements
 * with `addToPrincipalPolicy`; a plain `iam.Role` collects them in an inline `DefaultPolicy`,
 * which the NIST 800-53, HIPAA and PCI DSS packs reject (`IAMNoInlinePolicy`). This role routes
 * them to a managed policy attached to itself, created on the first statement, so the same
 * least-privilege statements pass without an acknowledgment.
 */
export class ManagedPolicyRole extends iam.Role {
  private managedPolicy?: iam.ManagedPolicy;
  private readonly policyDescription?: string;

  constructor(scope: Construct, id: string, props: ManagedPolicyRoleProps) {
    const { policyDescription, ...roleProps } = props;
    super(scope, id, roleProps);
    this.policyDescription = policyDescription ?? props.description;
  }

  /** The customer-managed policy holding the role's grants, once any was made. */
  public get grantsPolicy(): iam.ManagedPolicy | undefined {
    return this.managedPolicy;
  }

  public override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    if (!this.managedPolicy) {
      this.managedPolicy = new iam.ManagedPolicy(this, 'GrantsPolicy', {
        description: this.policyDescription,
        roles: [this],
      });
    }
    this.managedPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.managedPolicy };
  }
}
