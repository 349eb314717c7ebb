/**
 * Turns an S3 or network error from one probe step into a diagnosis that names the setting to
 * change. Pure: it looks only at the error and the context, so every branch is unit-testable.
 */
import {
  AWS_ACCESS_KEY_ID,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN,
  S3_ENDPOINT_URL,
  STRICT_BOOLEAN_VARS,
} from '../backend-env';

/** The probe steps, in order, with the IAM action each one needs. */
export const PROBE_STEPS = {
  deleteCheck: { title: 'delete permission (key that does not exist)', action: 's3:DeleteObject' },
  createUpload: { title: 'start multipart upload', action: 's3:PutObject' },
  uploadPart: { title: 'upload part', action: 's3:PutObject' },
  completeUpload: { title: 'complete multipart upload', action: 's3:PutObject' },
  rangedGet: { title: 'ranged read', action: 's3:GetObject' },
  head: { title: 'head', action: 's3:GetObject' },
  missingKey: { title: 'head of a missing key', action: 's3:ListBucket' },
  missingGet: { title: 'read of a missing key', action: 's3:GetObject' },
  delete: { title: 'delete probe object', action: 's3:DeleteObject' },
  abortUpload: { title: 'abort multipart upload', action: 's3:AbortMultipartUpload' },
} as const;

/** A probe step's identifier. */
export type ProbeStep = keyof typeof PROBE_STEPS;

/** What the diagnosis needs to know besides the error. */
export interface DiagnosisContext {
  readonly step: ProbeStep;
  readonly bucket: string;
  /** The variables naming this bucket (several in the single-bucket layout). */
  readonly variables: readonly string[];
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  readonly credentialSource: 'env-keys' | 'default-chain';
  readonly timeoutMs: number;
}

/** The verdict for one failed step. */
export interface Diagnosis {
  /** A short stable identifier for `--json` consumers. */
  readonly code: string;
  /** The setting to change (a variable, an IAM action, or a CLI flag). */
  readonly setting: string;
  /** Plain words: what happened and what to do. */
  readonly message: string;
}

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

/** The error's S3 code or network code, whichever it has. */
export function errorCode(err: unknown): string {
  const e = (err ?? {}) as ErrorShape;
  if (e.code && /^E[A-Z_]+$/.test(e.code)) {
    return e.code;
  }
  if (e.name && e.name !== 'Error') {
    return e.name;
  }
  // An error from another realm (e.g. a test sandbox) reaches us stringified by the SDK's retry
  // layer ("AWS SDK error wrapper for Error: connect ECONNREFUSED ..."): read the code back.
  const message = e.message ?? '';
  return (
    e.code ??
    /\b(E[A-Z]{4,}[A-Z_]*)\b/.exec(message)?.[1] ??
    /wrapper for ([A-Za-z]+Error):/.exec(message)?.[1] ??
    'Error'
  );
}

/** The HTTP status of an S3 error answer, if there was one. */
export function httpStatus(err: unknown): number | undefined {
  return ((err ?? {}) as ErrorShape).$metadata?.httpStatusCode;
}

/** One line describing the raw error, for reports and `--json`. */
export function describeError(err: unknown): string {
  const e = (err ?? {}) as ErrorShape;
  const status = httpStatus(err);
  const message = (e.message ?? String(err))
    .replace(/^AWS SDK error wrapper for (?:\w+: )?/, '')
    .replace(/^@smithy\/node-http-handler - \[ERROR\] /, '')
    .split('\n')[0];
  return `${errorCode(err)}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

function bucketHost(ctx: DiagnosisContext): string | undefined {
  if (!ctx.endpoint) {
    return undefined;
  }
  try {
    return `${ctx.bucket}.${new URL(ctx.endpoint).hostname}`;
  } catch {
    return undefined;
  }
}

/**
 * Diagnoses the failure of one probe step.
 *
 * @returns the diagnosis; its `setting` is never empty: when nothing specific matches it names
 *   the step's IAM action or the endpoint, the likeliest causes.
 */
export function diagnose(err: unknown, ctx: DiagnosisContext): Diagnosis {
  const e = (err ?? {}) as ErrorShape;
  const code = errorCode(err);
  const status = httpStatus(err);
  const message = e.message ?? '';
  const vars = ctx.variables.join(', ');
  const step = PROBE_STEPS[ctx.step];
  const where = ctx.endpoint ? `${S3_ENDPOINT_URL}=${ctx.endpoint}` : `AWS S3 in ${ctx.region ?? '(no region)'}`;

  if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return {
      code: 'no-credentials',
      setting: `${AWS_ACCESS_KEY_ID}/${AWS_SECRET_ACCESS_KEY}`,
      message:
        `No credentials: set ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY}, or run where an IAM role ` +
        'is available (the backend then needs an image from 2026-04-09 or later to run without keys).',
    };
  }
  if (code === 'InvalidAccessKeyId') {
    return {
      code: 'invalid-access-key',
      setting: AWS_ACCESS_KEY_ID,
      message: `The provider does not know this access key: check ${AWS_ACCESS_KEY_ID} (and that the key is active and belongs to ${where}).`,
    };
  }
  if (code === 'SignatureDoesNotMatch') {
    return {
      code: 'wrong-secret',
      setting: AWS_SECRET_ACCESS_KEY,
      message: `The signature does not match: ${AWS_SECRET_ACCESS_KEY} is wrong for ${AWS_ACCESS_KEY_ID} (or a proxy rewrites requests).`,
    };
  }
  if (code === 'ExpiredToken' || code === 'InvalidToken' || code === 'TokenRefreshRequired') {
    return {
      code: 'expired-token',
      setting: AWS_SESSION_TOKEN,
      message: `The session token is expired or invalid: renew ${AWS_SESSION_TOKEN}, or use a long-lived key or a role.`,
    };
  }

  // Region: AWS answers 301 PermanentRedirect (with x-amz-bucket-region) or 400
  // AuthorizationHeaderMalformed ("the region 'x' is wrong; expecting 'y'"). The backend has
  // one client for all buckets and follows no redirect, so the fix is AWS_REGION.
  const headers = e.$response?.headers ?? {};
  const bucketRegion =
    headers['x-amz-bucket-region'] ?? /expecting '([a-z0-9-]+)'/.exec(message)?.[1];
  if (
    code === 'PermanentRedirect' ||
    code === 'IllegalLocationConstraintException' ||
    status === 301 ||
    (code === 'AuthorizationHeaderMalformed' && /region/i.test(message)) ||
    (bucketRegion !== undefined && bucketRegion !== ctx.region)
  ) {
    return {
      code: 'region-mismatch',
      setting: AWS_REGION,
      message: bucketRegion
        ? `Bucket '${ctx.bucket}' is in ${bucketRegion}, but ${AWS_REGION}=${ctx.region ?? ''}. Set ${AWS_REGION}='${bucketRegion}' (all five buckets must be in that one region).`
        : `Bucket '${ctx.bucket}' is not in ${AWS_REGION}=${ctx.region ?? ''}: set ${AWS_REGION} to the buckets' region (all five must share it).`,
    };
  }

  if (code === 'NoSuchBucket') {
    const pathHint =
      ctx.endpoint && !ctx.forcePathStyle
        ? ` If the bucket does exist, the provider may not understand virtual-hosted addressing: set ${STRICT_BOOLEAN_VARS.forcePathStyle}=true.`
        : '';
    return {
      code: 'no-such-bucket',
      setting: ctx.variables[0],
      message: `Bucket '${ctx.bucket}' does not exist at ${where}: fix ${vars}, or create it (\`convex-storage provision\` for non-AWS providers, \`cdk deploy\` on AWS).${pathHint}`,
    };
  }

  if (code === 'AccessDenied' || code === 'Forbidden' || code === 'AllAccessDisabled' || status === 403) {
    if (ctx.step === 'missingGet') {
      return {
        code: 'access-denied',
        setting: 's3:GetObject, s3:ListBucket',
        message:
          `A read of a missing key answers 403 instead of 404 NoSuchKey in '${ctx.bucket}': s3:GetObject on ` +
          `arn:aws:s3:::${ctx.bucket}/* or s3:ListBucket on arn:aws:s3:::${ctx.bucket} (the bucket ARN, not /*) is missing; ` +
          'S3 answers 403 without either. Grant both: the backend reads with GetObject and treats that 403 as an error.',
      };
    }
    if (ctx.step === 'missingKey') {
      return {
        code: 'access-denied',
        setting: 's3:ListBucket',
        message:
          `A missing key answers 403 instead of 404 in '${ctx.bucket}': grant s3:ListBucket on the bucket ARN ` +
          '(arn:aws:s3:::<bucket>, not /*). The backend treats that 403 as an error.',
      };
    }
    return {
      code: 'access-denied',
      setting: step.action,
      message:
        `Access denied to ${step.title} in '${ctx.bucket}': grant ${step.action} on arn:aws:s3:::${ctx.bucket}/* ` +
        'to the backend\'s credentials, and check bucket policies, KMS key policies and SCPs.',
    };
  }

  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = /ENOTFOUND ([^\s]+)/.exec(message)?.[1];
    const vhost = bucketHost(ctx);
    if (ctx.endpoint && !ctx.forcePathStyle && host !== undefined && host === vhost) {
      return {
        code: 'virtual-host-unresolvable',
        setting: STRICT_BOOLEAN_VARS.forcePathStyle,
        message:
          `Virtual-hosted addressing asked DNS for '${host}', which does not resolve: a custom endpoint usually ` +
          `needs path-style addressing. Set ${STRICT_BOOLEAN_VARS.forcePathStyle}=true.`,
      };
    }
    return {
      code: 'host-not-found',
      setting: ctx.endpoint ? S3_ENDPOINT_URL : AWS_REGION,
      message: ctx.endpoint
        ? `Host '${host ?? ctx.endpoint}' does not resolve: check ${S3_ENDPOINT_URL} and this machine's DNS.`
        : `The S3 host for ${AWS_REGION}=${ctx.region ?? ''} does not resolve: check ${AWS_REGION} and DNS.`,
    };
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return {
      code: 'endpoint-unreachable',
      setting: ctx.endpoint ? S3_ENDPOINT_URL : 'network',
      message: ctx.endpoint
        ? `Nothing accepts connections at ${ctx.endpoint} (${code}): check ${S3_ENDPOINT_URL} (scheme, host, port) and that the server runs.`
        : `Cannot connect to AWS S3 (${code}): check the network route (NAT or an S3 VPC endpoint) and proxies.`,
    };
  }
  if (code === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'RequestTimeout' || /timed out|timeout/i.test(message)) {
    return {
      code: 'endpoint-timeout',
      setting: ctx.endpoint ? S3_ENDPOINT_URL : 'network',
      message:
        `No answer within ${ctx.timeoutMs / 1000}s from ${ctx.endpoint ?? 'AWS S3'}: check ` +
        `${ctx.endpoint ? S3_ENDPOINT_URL : 'the network route'}, firewalls and proxies (or allow more time with --timeout).`,
    };
  }
  if (code === 'EPROTO' || /wrong version number|SSL/i.test(message)) {
    return {
      code: 'tls-mismatch',
      setting: S3_ENDPOINT_URL,
      message: `TLS failed talking to ${ctx.endpoint ?? 'S3'}: check http:// versus https:// in ${S3_ENDPOINT_URL}.`,
    };
  }

  return {
    code: 'unexpected',
    setting: ctx.endpoint ? S3_ENDPOINT_URL : step.action,
    message: `${step.title} failed in '${ctx.bucket}' (${vars}) with ${describeError(err)}.`,
  };
}
