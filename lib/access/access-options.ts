/**
 * The ways the backend can hold its storage permissions, and the checks on their settings.
 *
 * No aws-cdk-lib import: the app's context reader and the CLI share this module.
 */

/** How the backend holds the access policy. */
export enum BackendAccessMode {
  /** An IAM role (an ECS task role, an EC2 instance role...): no long-lived keys anywhere. */
  ROLE = 'role',
  /**
   * An IAM user with one access key whose secret is kept in Secrets Manager, for a backend that
   * runs outside AWS.
   */
  USER = 'user',
}

/** The service principal the backend role trusts by default: ECS tasks. */
export const DEFAULT_TRUSTED_PRINCIPAL = 'ecs-tasks.amazonaws.com';

/** The serial of the first access key. */
export const DEFAULT_ACCESS_KEY_SERIAL = 1;

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const SERVICE_PRINCIPAL_PATTERN = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.amazonaws\\.com(?:\\.cn)?$`);

/**
 * Why `principal` does not look like an AWS service principal (`<service>.amazonaws.com`, or
 * `.amazonaws.com.cn` in China); empty when it does.
 */
export function servicePrincipalProblems(principal: string): string[] {
  if (SERVICE_PRINCIPAL_PATTERN.test(principal)) {
    return [];
  }
  if (principal.startsWith('arn:') || /^\d{12}$/.test(principal)) {
    return ['is an ARN or an account: the backend role trusts a service principal such as ecs-tasks.amazonaws.com or ec2.amazonaws.com; to let another role or account use the access policy, attach it with ConvexStorage.grantBackendAccess in your own stack'];
  }
  return ['does not look like a service principal; expected lowercase <service>.amazonaws.com (e.g. ecs-tasks.amazonaws.com, ec2.amazonaws.com)'];
}

/** Why an access key serial is not usable; empty when it is. */
export function accessKeySerialProblems(name: string, serial: number): string[] {
  if (!Number.isInteger(serial) || serial < 1) {
    return [`${name} must be a whole number, 1 or more (got ${serial}).`];
  }
  return [];
}

/**
 * The checks of the access settings that do not depend on the values' types, shared by the
 * stack and the app so both report the same sentences.
 */
export interface AccessSettings {
  /** Role or IAM user. */
  readonly mode: BackendAccessMode;
  /**
   * Service principal trusted by the role (role mode).
   *
   * @default 'ecs-tasks.amazonaws.com'
   */
  readonly trustedPrincipal?: string;
  /**
   * Serial of the active access key (user mode).
   *
   * @default 1
   */
  readonly accessKeySerial?: number;
  /**
   * Serial of the previous access key kept during a rotation (user mode).
   *
   * @default - no previous key
   */
  readonly previousAccessKeySerial?: number;
  /**
   * Whether the stack also runs the backend as an ECS task, whose task role holds the policy.
   *
   * @default false
   */
  readonly ecsTaskDefinition?: boolean;
  /**
   * Public CIDR blocks the backend's IAM user may sign storage requests from (user mode); its
   * requests from anywhere else are denied.
   *
   * @default - any address
   */
  readonly backendSourceIps?: readonly string[];
  /**
   * Whether the storage confines the backend's principal to VPC endpoints
   * (`backendVpcEndpointIds`), which applies to a role only.
   *
   * @default false
   */
  readonly vpcEndpointRestricted?: boolean;
}

/** Every problem with a combination of access settings, one sentence each. */
export function accessSettingsProblems(settings: AccessSettings): string[] {
  const problems: string[] = [];
  if (settings.mode === BackendAccessMode.ROLE) {
    if (settings.accessKeySerial !== undefined || settings.previousAccessKeySerial !== undefined) {
      problems.push('accessKeySerial and previousAccessKeySerial apply to access user only: a role has no access keys. Set access to user or drop them.');
    }
  } else if (settings.trustedPrincipal !== undefined) {
    problems.push('trustedPrincipal applies to access role only: the IAM user of access user is not assumed by a service. Set access to role or drop trustedPrincipal.');
  }
  if (settings.ecsTaskDefinition && settings.mode === BackendAccessMode.USER) {
    problems.push('access user creates access keys for a backend outside AWS, but the ECS task runs with its own task role and must not use keys: drop access=user (or ecs=true).');
  }
  if (settings.backendSourceIps !== undefined && settings.mode !== BackendAccessMode.USER) {
    problems.push('backendSourceIps restricts the IAM user of access user (a backend outside AWS, whose requests reach S3 from its public address): a role in AWS reaches S3 through a VPC endpoint, where S3 sees no source IP. Set access to user, or for a role use backendVpcEndpointIds (with ecs=true the VPC the app creates restricts the task role already).');
  }
  if (settings.vpcEndpointRestricted && settings.mode === BackendAccessMode.USER) {
    problems.push('backendVpcEndpointIds confines the backend\'s role to the S3 endpoints of its VPC, but access user is for a backend outside AWS: use backendSourceIps to confine the IAM user to its public addresses, or set access to role.');
  }
  if (settings.ecsTaskDefinition && settings.trustedPrincipal !== undefined) {
    problems.push('trustedPrincipal configures the stand-alone backend role, which the ECS task replaces with its task role: drop trustedPrincipal (or ecs=true).');
  }
  if (settings.trustedPrincipal !== undefined) {
    problems.push(...servicePrincipalProblems(settings.trustedPrincipal).map((p) => `trustedPrincipal '${settings.trustedPrincipal}' ${p}.`));
  }
  if (settings.accessKeySerial !== undefined) {
    problems.push(...accessKeySerialProblems('accessKeySerial', settings.accessKeySerial));
  }
  if (settings.previousAccessKeySerial !== undefined) {
    problems.push(...accessKeySerialProblems('previousAccessKeySerial', settings.previousAccessKeySerial));
    const current = settings.accessKeySerial ?? DEFAULT_ACCESS_KEY_SERIAL;
    if (settings.previousAccessKeySerial === current) {
      problems.push(`previousAccessKeySerial is ${current}, the same as accessKeySerial: it names the key that keeps working while backends move to key accessKeySerial, so it must differ. Drop previousAccessKeySerial once the rotation is done.`);
    }
  }
  return problems;
}
