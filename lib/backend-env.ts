/**
 * The environment variables the Convex backend (and the AWS SDK inside it) reads, and how to
 * write their values so the backend reads what was meant.
 *
 * Bucket variables come from the storage table; this module adds the rest. Like that table it
 * must not import aws-cdk-lib.
 */
import { STORAGE_KINDS } from './storage-kinds';

/** Region of all buckets. The backend has one S3 client and follows no cross-region redirect. */
export const AWS_REGION = 'AWS_REGION';
/** Only for non-AWS providers (R2, MinIO, Spaces, B2...). */
export const S3_ENDPOINT_URL = 'S3_ENDPOINT_URL';
/** Access key ID, read by the SDK's default credential chain (not by Convex itself); absent with a role. */
export const AWS_ACCESS_KEY_ID = 'AWS_ACCESS_KEY_ID';
/** Secret access key paired with {@link AWS_ACCESS_KEY_ID}; a secret, masked when printed. */
export const AWS_SECRET_ACCESS_KEY = 'AWS_SECRET_ACCESS_KEY';
/** Session token of temporary credentials, which expire: the backend then fails. */
export const AWS_SESSION_TOKEN = 'AWS_SESSION_TOKEN';
/** Read by other AWS tools but not by the backend, which needs AWS_REGION. */
export const AWS_DEFAULT_REGION = 'AWS_DEFAULT_REGION';

/**
 * Environment credentials. The SDK's chain reads them before any role, so they must be absent
 * wherever a role (ECS task, EC2 instance) should be used.
 */
export const CREDENTIAL_VARS: readonly string[] = [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN];

/**
 * Name of the backend instance. It seeds the S3 key prefix (`<INSTANCE_NAME>-<uuid>/`) and the
 * SQL database name, and signs admin keys: it must never change for the life of a deployment.
 */
export const INSTANCE_NAME = 'INSTANCE_NAME';
/** Exactly 64 hex characters (32 bytes); admin keys are derived from it. */
export const INSTANCE_SECRET = 'INSTANCE_SECRET';
/** Public URL of the backend API (port 3210); file and upload URLs are built from it. */
export const CONVEX_CLOUD_ORIGIN = 'CONVEX_CLOUD_ORIGIN';
/** Public URL of the HTTP actions (port 3211). */
export const CONVEX_SITE_ORIGIN = 'CONVEX_SITE_ORIGIN';
/** PostgreSQL connection URL without a database name; the database is named after INSTANCE_NAME. */
export const POSTGRES_URL = 'POSTGRES_URL';
/** MySQL connection URL without a database name; the database is named after INSTANCE_NAME. */
export const MYSQL_URL = 'MYSQL_URL';
/**
 * File of extra CA certificates the backend trusts for Postgres TLS, besides the image's system
 * roots (`crates/postgres/src/lib.rs`). Amazon RDS needs its own CAs here.
 */
export const PG_CA_FILE = 'PG_CA_FILE';
/** File of extra CA certificates the backend trusts for MySQL TLS (it adds `verify_ca=true`). */
export const MYSQL_CA_FILE = 'MYSQL_CA_FILE';
/**
 * `true` closes the backend's `/metrics` endpoint, which is otherwise served without
 * authentication on the API port (knob default false; upstream's compose file sets true).
 */
export const DISABLE_METRICS_ENDPOINT = 'DISABLE_METRICS_ENDPOINT';
/** Read by the dashboard image: the backend URL the dashboard's browser code talks to. */
export const NEXT_PUBLIC_DEPLOYMENT_URL = 'NEXT_PUBLIC_DEPLOYMENT_URL';

/**
 * Booleans the backend parses strictly: exactly `true` turns them on; anything else,
 * `1`, `TRUE` and `yes` included, is silently read as false.
 */
export const STRICT_BOOLEAN_VARS = {
  forcePathStyle: 'AWS_S3_FORCE_PATH_STYLE',
  /** Stops the `x-amz-server-side-encryption: AES256` header that overrides SSE-KMS. */
  disableSse: 'AWS_S3_DISABLE_SSE',
  disableChecksums: 'AWS_S3_DISABLE_CHECKSUMS',
  disableRangePrefetch: 'AWS_S3_DISABLE_RANGE_PREFETCH',
} as const;

/**
 * Flags the backend switches on when set to any non-empty value, `false` included.
 * To leave one off, the variable must be absent.
 */
export const PRESENCE_FLAG_VARS = {
  disableBeacon: 'DISABLE_BEACON',
  redactLogsToClient: 'REDACT_LOGS_TO_CLIENT',
  doNotRequireSsl: 'DO_NOT_REQUIRE_SSL',
} as const;

/**
 * The variables that must all be non-empty for the image's entrypoint to switch on S3
 * storage. With any of them missing the backend silently keeps data on local disk.
 */
export const REQUIRED_S3_VARS: readonly string[] = [AWS_REGION, ...STORAGE_KINDS.map((k) => k.envVar)];

/** Variables whose values are secrets: masked when printed. */
export const SECRET_VARS: readonly string[] = [AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN];

/**
 * The stack output key for a variable: PascalCase without underscores,
 * e.g. `S3_STORAGE_EXPORTS_BUCKET` -> `S3StorageExportsBucket`.
 */
export function outputKeyFor(envVar: string): string {
  return envVar
    .toLowerCase()
    .split('_')
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/** Writes a strict boolean the only way the backend reads it: lowercase `true` or `false`. */
export function strictBoolean(value: boolean): 'true' | 'false' {
  return value ? 'true' : 'false';
}

/** What a backend variable means, in words for stack output descriptions and CLI messages. */
export function describeVariable(envVar: string): string {
  const kind = STORAGE_KINDS.find((k) => k.envVar === envVar);
  if (kind) {
    return `bucket for ${kind.description}`;
  }
  return VARIABLE_DESCRIPTIONS[envVar] ?? 'backend setting';
}

const VARIABLE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [AWS_REGION]: 'region of all the buckets (the backend uses one S3 client for all of them)',
  [S3_ENDPOINT_URL]: 'endpoint of a non-AWS S3-compatible provider',
  [AWS_ACCESS_KEY_ID]: 'access key ID of the IAM user the backend signs its S3 requests with',
  [AWS_SECRET_ACCESS_KEY]: 'secret access key of that IAM user',
  [STRICT_BOOLEAN_VARS.forcePathStyle]: 'path-style addressing (bucket in the path, not the host name)',
  [STRICT_BOOLEAN_VARS.disableSse]: 'stops the backend sending x-amz-server-side-encryption: AES256, which would override the buckets\' SSE-KMS default',
  [STRICT_BOOLEAN_VARS.disableChecksums]: 'stops CRC32 part checksums, for providers that do not return them',
  [STRICT_BOOLEAN_VARS.disableRangePrefetch]: 'stops ranged prefetch, for providers with unusual Content-Range answers',
  [INSTANCE_NAME]: 'the backend\'s instance name, the first part of every S3 key; the access policy covers only its keys, so never change it',
};

/**
 * The stack output key holding the ARN of the Secrets Manager secret that stores a secret
 * variable, e.g. `AWS_SECRET_ACCESS_KEY` -> `AwsSecretAccessKeySecretArn`. The secret itself is
 * never an output.
 */
export function secretArnOutputKeyFor(envVar: string): string {
  return `${outputKeyFor(envVar)}SecretArn`;
}

/** Whether `value` is one the backend reads as intended for a strict boolean. */
export function isStrictBooleanValue(value: string): value is 'true' | 'false' {
  return value === 'true' || value === 'false';
}

/**
 * Stack outputs of the backend's task definition that `convex-storage admin-key --stack` reads:
 * the ARN of the Secrets Manager secret holding `INSTANCE_SECRET` (the value is never an output),
 * the JSON field holding it when the secret is JSON, and the `INSTANCE_NAME` the task runs with.
 */
export const BACKEND_OUTPUTS = {
  instanceSecretArn: 'BackendInstanceSecretArn',
  /** Only when the secret is JSON: the field that holds the value. */
  instanceSecretField: 'BackendInstanceSecretField',
  instanceName: 'BackendInstanceName',
} as const;
