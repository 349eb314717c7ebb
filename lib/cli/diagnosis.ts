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

/** What an AWS access-denied message says about the policy that refused the request. */
export interface DenialContext {
  /** True for "with an explicit deny in a ... policy", false for "because no ... policy allows". */
  readonly explicit: boolean;
  /** The policy type, lowercase: `resource-based`, `identity-based`, `vpc endpoint`, `service control`... */
  readonly policyType: string;
}

/**
 * Reads the policy type out of an access-denied message. For requests within one account (or
 * organization) S3 writes, in IAM's documented format, "User: <arn> is not authorized to
 * perform: <action> on resource: "<arn>" with an explicit deny in a <type> policy" or "...
 * because no <type> policy allows the <action> action". Other providers, and S3 across
 * organizations, say only "Access Denied": undefined then.
 */
export function denialContext(message: string): DenialContext | undefined {
  const explicit = /with an explicit deny in an? ([A-Za-z][A-Za-z -]*?) policy/i.exec(message);
  if (explicit) {
    return { explicit: true, policyType: explicit[1].toLowerCase() };
  }
  const implicit = /because no ([A-Za-z][A-Za-z -]*?) policy allows/i.exec(message);
  return implicit ? { explicit: false, policyType: implicit[1].toLowerCase() } : undefined;
}

const UPLOAD_STEPS: readonly ProbeStep[] = ['createUpload', 'uploadPart', 'completeUpload'];

/**
 * The diagnosis of a denial whose message names a deny this project's network restrictions
 * make, or a policy type other than the credentials' own permissions; undefined for the rest.
 */
function diagnoseNamedDenial(denial: DenialContext | undefined, ctx: DiagnosisContext): Diagnosis | undefined {
  if (!denial) {
    return undefined;
  }
  const step = PROBE_STEPS[ctx.step];
  if (denial.explicit && denial.policyType === 'resource-based') {
    // Every probe starts with the delete check, and the network deny covers every S3 action: a
    // bucket-policy deny that lets the first step through is some other rule of the policy.
    if (ctx.step === 'deleteCheck') {
      return {
        code: 'network-restricted',
        setting: 'aws:SourceVpce (backendVpcEndpointIds)',
        message:
          `The bucket policy of '${ctx.bucket}' denies these credentials explicitly: with cdk-convex-storage that is the ` +
          'network restriction, which denies the backend\'s role every request that does not come through the S3 gateway ' +
          'endpoint of the backend\'s VPC (ecs=true, or backendVpcEndpointIds). The credentials are right but used from ' +
          'the wrong place: run verify where the backend runs (e.g. ECS Exec in the backend task), or verify from here with ' +
          'your own credentials (drop the keys from the file). A presigned URL used outside the VPC is refused the same way.',
      };
    }
    return {
      code: 'bucket-policy-denied',
      setting: UPLOAD_STEPS.includes(ctx.step) ? STRICT_BOOLEAN_VARS.disableSse : 'bucket policy',
      message:
        `The bucket policy of '${ctx.bucket}' explicitly denies ${step.title} (${step.action}), after it allowed the first ` +
        'request, so it is not the network restriction. ' +
        (UPLOAD_STEPS.includes(ctx.step)
          ? `Uploads are refused when they ask for another encryption than the bucket's: with a KMS-encrypted bucket set ${STRICT_BOOLEAN_VARS.disableSse}=true, so no AES256 header is sent.`
          : 'Read the Deny statements of the bucket policy for this action.'),
    };
  }
  if (denial.explicit && denial.policyType === 'identity-based') {
    return {
      code: 'source-ip-restricted',
      setting: 'backendSourceIps',
      message:
        `An identity policy of these credentials denies ${step.action} in '${ctx.bucket}' explicitly: with cdk-convex-storage ` +
        'that is the IAM user\'s source-address restriction (backendSourceIps), which denies its requests from any ' +
        'other address. Run verify from an address in backendSourceIps (where the backend runs), or add this machine\'s ' +
        'public address to backendSourceIps and deploy.',
    };
  }
  if (denial.policyType === 'vpc endpoint') {
    return {
      code: 'vpc-endpoint-policy',
      setting: 'VPC endpoint policy',
      message:
        `The S3 VPC endpoint this request went through does not let ${step.action} on '${ctx.bucket}' pass. The endpoint ` +
        'of the VPC cdk-convex-storage creates admits buckets of its own account and ECR\'s image layers only: check that ' +
        `'${ctx.bucket}' belongs to the account, or the policy of your own VPC's endpoint.`,
    };
  }
  if (denial.policyType === 'service control' || denial.policyType === 'resource control') {
    return {
      code: 'organization-policy',
      setting: `${denial.policyType} policy`,
      message:
        `A ${denial.policyType} policy of your AWS organization ${denial.explicit ? 'denies' : 'does not allow'} ${step.action} ` +
        `in '${ctx.bucket}': no setting of the backend fixes that; ask the organization's administrators.`,
    };
  }
  return undefined;
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
    const restricted = diagnoseNamedDenial(denialContext(message), ctx);
    if (restricted) {
      return restricted;
    }
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
