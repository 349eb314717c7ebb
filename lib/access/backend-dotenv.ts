/**
 * The `.env` block the stack outputs as `DotEnv`, and the placeholder that stands in for the
 * secret access key in it.
 *
 * The secret access key is never written into a template, an output or a log: the block names
 * the Secrets Manager secret to read it from instead, in a placeholder that cannot be mistaken
 * for a key (an AWS secret access key is 40 characters of base64, never `<`, `>` or spaces).
 * `convex-storage env` replaces the placeholder with the secret's value.
 *
 * No aws-cdk-lib import: the CLI shares this module. Values may be CDK tokens.
 */
import { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, INSTANCE_NAME } from '../backend-env';
import { DotEnvEntry, renderDotEnv } from '../dotenv';

const PLACEHOLDER_PREFIX = '<read from Secrets Manager secret ';
const PLACEHOLDER_PATTERN = /^<read from Secrets Manager secret (arn:[^\s<>]+)>$/;

/**
 * Longest `DotEnv` output value the stack emits. CloudFormation refuses to export an output
 * longer than 1024 characters, so the block stays under that and can be exported.
 */
export const DOTENV_OUTPUT_MAX_LENGTH = 1024;

/** The placeholder for a secret variable whose value is in the Secrets Manager secret `secretArn`. */
export function secretPlaceholder(secretArn: string): string {
  return `${PLACEHOLDER_PREFIX}${secretArn}>`;
}

/** The secret ARN a placeholder names, or undefined when `value` is not a placeholder. */
export function parseSecretPlaceholder(value: string): string | undefined {
  return PLACEHOLDER_PATTERN.exec(value)?.[1];
}

/** The IAM user credentials of access mode `user`, as the `.env` block names them. */
export interface DotEnvUserCredentials {
  /** The access key ID (not secret). */
  readonly accessKeyId: string;
  /**
   * ARN of the Secrets Manager secret whose JSON holds `AWS_ACCESS_KEY_ID` and
   * `AWS_SECRET_ACCESS_KEY`.
   */
  readonly secretArn: string;
}

/** What goes into the backend's `.env` block besides the storage environment. */
export interface BackendDotEnvOptions {
  /**
   * IAM user credentials (access mode `user`).
   *
   * @default - none: the backend's role provides credentials
   */
  readonly credentials?: DotEnvUserCredentials;
}

/**
 * The `.env` entries of the backend: the storage environment in its order, then the user
 * credentials with the secret as a placeholder.
 */
export function backendDotEnvEntries(environment: Readonly<Record<string, string>>, options: BackendDotEnvOptions = {}): DotEnvEntry[] {
  const entries: DotEnvEntry[] = Object.entries(environment).map(([key, value]) => ({
    key,
    value,
    comment: key === INSTANCE_NAME ? 'Never change it: the access policy covers only keys under this name.' : undefined,
  }));
  if (options.credentials) {
    entries.push({ key: AWS_ACCESS_KEY_ID, value: options.credentials.accessKeyId });
    entries.push({
      key: AWS_SECRET_ACCESS_KEY,
      value: secretPlaceholder(options.credentials.secretArn),
      comment: 'Placeholder: `npx convex-storage env` fills in the key from the secret it names.',
    });
  }
  return entries;
}

/** The backend's `.env` block (see {@link backendDotEnvEntries}). */
export function renderBackendDotEnv(environment: Readonly<Record<string, string>>, options: BackendDotEnvOptions = {}): string {
  return renderDotEnv(backendDotEnvEntries(environment, options));
}
