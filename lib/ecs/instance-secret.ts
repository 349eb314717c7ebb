import { RemovalPolicy, Validations, aws_iam as iam, aws_kms as kms, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeComplianceRule } from '../compliance';
import { describeRemovalPolicy, isKept, retainedWithDeletedKeyProblem } from './key-retention';

/** The characters of an `INSTANCE_SECRET`: the backend accepts exactly 64 of these. */
export const HEX_CHARACTERS = '0123456789abcdef';

/** Length of an `INSTANCE_SECRET` (32 bytes written as hex). */
export const INSTANCE_SECRET_LENGTH = 64;

/**
 * Every printable ASCII character except space and the hex digits `0-9a-f`. Secrets Manager has
 * no "hex only" switch, so the generator excludes everything else explicitly; space is left to
 * `includeSpace: false` because Secrets Manager does not take it in this list.
 */
export const NON_HEX_PRINTABLE_CHARACTERS: string = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => !HEX_CHARACTERS.includes(c))
  .join('');

/**
 * Secrets Manager generator settings that yield exactly 64 lowercase hex characters. The
 * punctuation and uppercase switches are redundant with the exclusion list and kept as a second
 * guard; `requireEachIncludedType: false` keeps every character uniformly random (256 bits).
 */
export const INSTANCE_SECRET_GENERATOR: secretsmanager.SecretStringGenerator = {
  passwordLength: INSTANCE_SECRET_LENGTH,
  excludeCharacters: NON_HEX_PRINTABLE_CHARACTERS,
  excludePunctuation: true,
  excludeUppercase: true,
  excludeLowercase: false,
  excludeNumbers: false,
  includeSpace: false,
  requireEachIncludedType: false,
};

/** How to rotate the instance secret by hand; quoted in the rotation acknowledgments. */
const INSTANCE_SECRET_ROTATION_PROCEDURE = 'INSTANCE_SECRET signs every admin key and the backend reads it only at start-up, with no way to accept an old and a new value at once, so a scheduled Lambda rotation would invalidate every admin key and deploy key without warning. Rotation is a deliberate procedure instead: put a new value of exactly 64 lowercase hex characters (openssl rand -hex 32) into this secret, force a new deployment of the ECS service, generate new admin keys with ./generate_admin_key.sh in the new task, and replace the keys in CI and the dashboard.';

/** Properties of {@link InstanceSecret}. */
export interface InstanceSecretProps {
  /**
   * Key that encrypts the secret. A key this stack would delete is rejected unless the secret is
   * deleted too (`removalPolicy: RemovalPolicy.DESTROY`): a kept secret must stay readable.
   *
   * @default - the AWS managed key `aws/secretsmanager`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the secret when it leaves the stack. Losing it invalidates every admin key.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Secrets Manager secret holding a generated `INSTANCE_SECRET`: exactly 64 lowercase hex
 * characters, the only form the backend accepts. Generated once at deployment; CloudFormation
 * keeps the value on later updates.
 */
export class InstanceSecret extends Construct {
  /** The secret; its whole value is the instance secret (no JSON). */
  public readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: InstanceSecretProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const problem = isKept(removalPolicy) ? retainedWithDeletedKeyProblem('the secret', describeRemovalPolicy(props.removalPolicy), props.encryptionKey) : undefined;
    if (problem) throw new Error(`Invalid InstanceSecret properties at ${this.node.path}: ${problem}`);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'INSTANCE_SECRET of a self-hosted Convex backend (64 lowercase hex characters; admin keys are derived from it)',
      encryptionKey: props.encryptionKey,
      generateSecretString: INSTANCE_SECRET_GENERATOR,
      removalPolicy,
    });
    Validations.of(this.secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: INSTANCE_SECRET_ROTATION_PROCEDURE });
    acknowledgeComplianceRule(this.secret, 'SecretsManagerRotationEnabled', INSTANCE_SECRET_ROTATION_PROCEDURE);
    if (!props.encryptionKey) {
      acknowledgeComplianceRule(this.secret, 'SecretsManagerUsingKMSKey', 'Encrypted at rest with the AWS managed key aws/secretsmanager. This stack grants secretsmanager:GetSecretValue on the secret only to the task execution role; the AWS managed key adds no restriction of its own, so any other principal of this account reads it only through an IAM policy that allows GetSecretValue on it (as broad administrator policies do). This deployment chose encryption s3; with encryption kms (or an encryptionKey prop) the secret uses the storage\'s customer-managed key.');
    }
  }

  /**
   * Lets nobody but `principalArns` read the value: the secret's resource policy denies
   * `secretsmanager:GetSecretValue` to every other principal, whatever its IAM policies allow
   * (an administrator policy included). Name the task's execution role (ECS reads the secret for
   * the container) and the roles that run `convex-storage admin-key`.
   */
  public denyReadingExcept(principalArns: readonly string[]): void {
    this.secret.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyReadingExceptNamedRoles',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['*'],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...principalArns] } },
    }));
  }
}
