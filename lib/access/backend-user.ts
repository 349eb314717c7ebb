import { RemovalPolicy, SecretValue, Token, Validations, aws_iam as iam, aws_kms as kms, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackendAccessMode, DEFAULT_ACCESS_KEY_SERIAL, accessSettingsProblems } from './access-options';
import { sourceIpListProblems } from './network-options';
import { sourceIpDenyStatement } from './network-restriction';
import { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } from '../backend-env';
import { acknowledgeComplianceRule } from '../compliance';
import { ConvexStorage } from '../storage/convex-storage';

/**
 * Why the access key secret has no Secrets Manager rotation: the answer to the rotation rules,
 * which is the rotation procedure itself.
 */
export const ACCESS_KEY_ROTATION_REASON = 'Secrets Manager cannot rotate this secret on its own: it holds the secret of the IAM access key that CloudFormation creates, and only a new AWS::IAM::AccessKey makes a new secret. Rotation is a documented zero-downtime procedure (README, "Rotating the access key without downtime"): deploy with -c accessKeySerial=N+1 -c previousAccessKeySerial=N, which creates key N+1 and writes it to this secret while key N keeps working; restart the backend with the new value (npx convex-storage env); check that key N is no longer used (aws iam get-access-key-last-used); then deploy with -c accessKeySerial=N+1 alone, which deletes key N.';

const SECRET_AWS_MANAGED_KEY_REASON = 'The secret is encrypted at rest with the AWS managed key aws/secretsmanager and readable only by principals of this account that IAM allows to. This deployment chose encryption s3; with encryption kms the secret is encrypted with the storage\'s customer-managed key.';

/** Properties of {@link BackendUser}. */
export interface BackendUserProps {
  /** The storage whose access policy the user gets (through its group). */
  readonly storage: ConvexStorage;

  /**
   * Serial of the active access key: each serial is its own key, so raising it issues a new key
   * and, unless it is kept as `previousAccessKeySerial`, deletes the old one.
   *
   * @default 1
   */
  readonly accessKeySerial?: number;

  /**
   * Serial of the previous access key to keep working during a rotation, until every backend
   * uses key `accessKeySerial`. Remove it to delete that key. An IAM user holds at most two keys.
   *
   * @default - no previous key
   */
  readonly previousAccessKeySerial?: number;

  /**
   * KMS key that encrypts the secret.
   *
   * @default - the storage's KMS key in KMS mode, else the AWS managed key aws/secretsmanager
   */
  readonly secretEncryptionKey?: kms.IKey;

  /**
   * Public CIDR blocks (IPv4 or IPv6, e.g. `203.0.113.7/32`) the backend's requests leave from.
   * A policy of the user's group then denies the group's members every request to the storage
   * from any other address (`aws:SourceIp`): a leaked access key stops working elsewhere. Run
   * `convex-storage verify` with the user's keys from one of these addresses too.
   *
   * @default - the access key works from any address
   */
  readonly sourceIps?: string[];
}

/**
 * An IAM user for a backend outside AWS: member of a group that holds the storage's access
 * policy (the user has no policy of its own), with one access key whose secret lives only in a
 * Secrets Manager secret. The secret's JSON holds `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY`, the variable names the AWS SDK reads.
 */
export class BackendUser extends Construct {
  /** The group that holds the access policy. */
  public readonly group: iam.Group;
  /** The IAM user the backend signs its requests as. */
  public readonly user: iam.User;
  /** The active access key (serial `accessKeySerial`), whose secret is in {@link secret}. */
  public readonly accessKey: iam.AccessKey;
  /** The previous access key kept alive during a rotation, if any. */
  public readonly previousAccessKey?: iam.AccessKey;
  /** The secret holding the active key's ID and secret access key. */
  public readonly secret: secretsmanager.Secret;
  /** Serial of the active access key. */
  public readonly accessKeySerial: number;
  /** The group's policy that denies storage requests from outside `sourceIps`, if given. */
  public readonly sourceIpRestriction?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: BackendUserProps) {
    super(scope, id);
    this.accessKeySerial = props.accessKeySerial ?? DEFAULT_ACCESS_KEY_SERIAL;
    const problems = accessSettingsProblems({
      mode: BackendAccessMode.USER,
      accessKeySerial: this.accessKeySerial,
      previousAccessKeySerial: props.previousAccessKeySerial,
    });
    if (props.sourceIps !== undefined && !Token.isUnresolved(props.sourceIps)) {
      problems.push(...sourceIpListProblems('sourceIps', props.sourceIps, (cidr) => Token.isUnresolved(cidr)));
    }
    if (problems.length > 0) {
      throw new Error(`Invalid BackendUser properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }

    this.group = new iam.Group(this, 'Group');
    props.storage.grantBackendAccess(this.group);
    this.user = new iam.User(this, 'User', { groups: [this.group] });
    if (props.sourceIps !== undefined) {
      // In the group's own policy rather than the buckets': the restriction goes wherever the
      // group's permissions go (every member, nobody else), and S3's AccessDenied names it
      // ("explicit deny in an identity-based policy") apart from the buckets' own rules.
      this.sourceIpRestriction = new iam.ManagedPolicy(this, 'SourceIpRestriction', {
        description: 'Denies the Convex backend\'s IAM user every storage request from outside its allowed source addresses (cdk-convex-storage)',
        groups: [this.group],
        statements: [sourceIpDenyStatement({ buckets: props.storage.dataBuckets, sourceIps: props.sourceIps })],
      });
    }

    // The construct ID carries the serial, so a kept previous key keeps its logical ID (and
    // stays untouched) while the new serial is a new resource.
    this.accessKey = this.newAccessKey(this.accessKeySerial);
    if (props.previousAccessKeySerial !== undefined) {
      this.previousAccessKey = this.newAccessKey(props.previousAccessKeySerial);
    }

    const encryptionKey = props.secretEncryptionKey ?? props.storage.encryptionKey;
    this.secret = new secretsmanager.Secret(this, 'AccessKeySecret', {
      description: `Access key ${this.accessKeySerial} of the IAM user a self-hosted Convex backend uses for its S3 storage (JSON keys ${AWS_ACCESS_KEY_ID}, ${AWS_SECRET_ACCESS_KEY})`,
      encryptionKey,
      // A reference to the key's SecretAccessKey attribute, resolved by CloudFormation: the
      // secret access key never appears in the template.
      secretObjectValue: {
        [AWS_ACCESS_KEY_ID]: SecretValue.resourceAttribute(this.accessKey.accessKeyId),
        [AWS_SECRET_ACCESS_KEY]: this.accessKey.secretAccessKey,
      },
      // Without its access key the secret is worthless.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: ACCESS_KEY_ROTATION_REASON });
    acknowledgeComplianceRule(this.secret, 'SecretsManagerRotationEnabled', ACCESS_KEY_ROTATION_REASON);
    if (!encryptionKey) {
      acknowledgeComplianceRule(this.secret, 'SecretsManagerUsingKMSKey', SECRET_AWS_MANAGED_KEY_REASON);
    }
  }

  private newAccessKey(serial: number): iam.AccessKey {
    return new iam.AccessKey(this, `AccessKey${serial}`, { user: this.user, serial });
  }
}
