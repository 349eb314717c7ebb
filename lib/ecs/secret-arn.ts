/**
 * The ARNs the app's backend settings take: a Secrets Manager secret's complete ARN and a KMS
 * key's ARN.
 */
import { Token } from 'aws-cdk-lib';

/**
 * A complete Secrets Manager secret ARN: the name followed by `-` and the 6 random characters
 * Secrets Manager appends. A partial ARN (without them) would be granted and injected as given,
 * and the task could not read the secret.
 */
export const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/** A KMS key ARN (`key/<id>`; an alias ARN cannot be granted to). */
export const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** What a complete secret ARN is and where to find it, for error messages. */
export const SECRET_ARN_RULE = 'expected the complete ARN of a Secrets Manager secret, which ends in the secret\'s name, \'-\' and the 6 random characters Secrets Manager appends (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf). A partial ARN or a name cannot be granted exactly, and the task would fail to start. Copy the ARN from the Secrets Manager console, or run: aws secretsmanager describe-secret --secret-id <name> --query ARN --output text';

/** What a KMS key ARN is and where to find it, for error messages. */
export const KMS_KEY_ARN_RULE = 'expected the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<key-id>; not an alias). The key that encrypts a secret is shown by: aws secretsmanager describe-secret --secret-id <secret> --query KmsKeyId --output text (then aws kms describe-key --key-id <that> --query KeyMetadata.Arn --output text)';

/** The database settings of `ConvexBackendOptions`, as {@link databaseSecretProblems} checks them. */
export interface DatabaseSecretSettings {
  /**
   * The complete ARN of the database URL secret.
   *
   * @default - no database secret (SQLite)
   */
  readonly databaseUrlSecretArn?: string;
  /**
   * The ARN of the KMS key that encrypts that secret.
   *
   * @default - the secret uses the AWS managed key
   */
  readonly databaseUrlSecretKeyArn?: string;
  /**
   * The database engine; only whether it is set matters here.
   *
   * @default - not set
   */
  readonly databaseEngine?: unknown;
}

/**
 * Problems with the database secret settings, one `<setting>: <problem>` line each: an ARN that
 * is not complete (tokens are not checked), and a key or engine without the secret. The
 * `ConvexBackend` construct and the app's context reader both report these, in these words.
 */
export function databaseSecretProblems(settings: DatabaseSecretSettings): string[] {
  const { databaseUrlSecretArn: secretArn, databaseUrlSecretKeyArn: keyArn, databaseEngine: engine } = settings;
  const problems: string[] = [];
  if (secretArn !== undefined && !Token.isUnresolved(secretArn) && !SECRET_ARN_PATTERN.test(secretArn)) {
    problems.push(`databaseUrlSecretArn: '${secretArn}' is not valid; ${SECRET_ARN_RULE}.`);
  }
  if (keyArn !== undefined && !Token.isUnresolved(keyArn) && !KMS_KEY_ARN_PATTERN.test(keyArn)) {
    problems.push(`databaseUrlSecretKeyArn: '${keyArn}' is not valid; ${KMS_KEY_ARN_RULE}.`);
  }
  if (secretArn === undefined) {
    if (keyArn !== undefined) problems.push('databaseUrlSecretKeyArn: only applies with databaseUrlSecretArn (it is the key of that secret); set both or neither.');
    if (engine !== undefined) problems.push('databaseEngine: only applies with databaseUrlSecretArn (it is the database behind that secret); set both or neither.');
  }
  return problems;
}
