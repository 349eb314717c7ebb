/**
 * Builds an S3 client configured the way the Convex backend configures its own from the same
 * environment, so a check that passes here passes for the backend.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  AWS_ACCESS_KEY_ID,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN,
  S3_ENDPOINT_URL,
  STRICT_BOOLEAN_VARS,
} from '../backend-env';
import { envValue, type EnvValues } from './env-checks';

/** How hard the client tries before it reports a failure. */
export interface ClientLimits {
  /** Bound on connecting and on waiting for an answer, in milliseconds. */
  readonly timeoutMs: number;
  /** Total attempts per request (1 = no retry). Small, so failures are reported fast. */
  readonly maxAttempts: number;
}

/** Where the credentials come from, for messages. */
export type CredentialSource = 'env-keys' | 'default-chain';

/** The client settings derived from the backend's environment. */
export interface BackendS3Settings {
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  readonly sse: boolean;
  readonly checksums: boolean;
  readonly credentialSource: CredentialSource;
}

/** Reads the settings the backend derives from its environment (strict booleans: exactly `true`). */
export function backendS3Settings(env: EnvValues): BackendS3Settings {
  return {
    region: envValue(env, AWS_REGION),
    endpoint: envValue(env, S3_ENDPOINT_URL),
    forcePathStyle: env.get(STRICT_BOOLEAN_VARS.forcePathStyle) === 'true',
    sse: env.get(STRICT_BOOLEAN_VARS.disableSse) !== 'true',
    checksums: env.get(STRICT_BOOLEAN_VARS.disableChecksums) !== 'true',
    credentialSource:
      envValue(env, AWS_ACCESS_KEY_ID) !== undefined && envValue(env, AWS_SECRET_ACCESS_KEY) !== undefined
        ? 'env-keys'
        : 'default-chain',
  };
}

/**
 * The S3 client configuration for `env`: region, endpoint and path style as the backend reads
 * them; the access keys from `env` when it has both, else the SDK's default chain (like the
 * backend, whose chain also ends in a task or instance role).
 */
export function s3ClientConfig(env: EnvValues, limits: ClientLimits): S3ClientConfig {
  const settings = backendS3Settings(env);
  const keyId = envValue(env, AWS_ACCESS_KEY_ID);
  const secret = envValue(env, AWS_SECRET_ACCESS_KEY);
  return {
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials:
      keyId !== undefined && secret !== undefined
        ? { accessKeyId: keyId, secretAccessKey: secret, sessionToken: envValue(env, AWS_SESSION_TOKEN) }
        : undefined,
    // The SDK would otherwise add (and check) CRC32 checksums on its own, hiding whether the
    // provider handles the ones the backend asks for. The probe sets them explicitly instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The backend follows no cross-region redirect; neither may we, or a wrong AWS_REGION passes.
    followRegionRedirects: false,
    maxAttempts: limits.maxAttempts,
    // Without throwOnRequestTimeout a stalled endpoint only logs a warning and hangs forever.
    requestHandler: { connectionTimeout: limits.timeoutMs, requestTimeout: limits.timeoutMs, throwOnRequestTimeout: true },
  };
}

/** Creates the client; see {@link s3ClientConfig}. */
export function createBackendS3Client(env: EnvValues, limits: ClientLimits): S3Client {
  return new S3Client(s3ClientConfig(env, limits));
}
