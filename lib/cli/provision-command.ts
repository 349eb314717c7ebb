/**
 * `convex-storage provision`: creates the five buckets an `.env` names on a non-AWS provider,
 * with versioning and the construct's lifecycle rules where the provider supports them.
 */
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3_ENDPOINT_URL } from '../backend-env';
import { booleanFlag, parseFlags, timeoutFlag } from './args';
import { describeError, diagnose, errorCode, httpStatus } from './diagnosis';
import { checkBackendEnv, fileProblemFindings } from './env-checks';
import { SOURCE_OPTIONS, loadBackendEnvFromFlags } from './env-source';
import { CliError, EXIT, type CliIo } from './io';
import { RULE_ID_PREFIX, lifecycleRulesFor } from './lifecycle';
import { backendS3Settings, createBackendS3Client } from './s3-client';
import { bucketTargets, type BucketTarget } from './targets';
import { DEFAULT_TIMEOUT_SECONDS } from './verify-command';

/** The outcome of one feature on one bucket. */
export interface FeatureOutcome {
  /** `unsupported`: the provider does not offer it; reported, not a failure. */
  readonly status: 'created' | 'exists' | 'enabled' | 'set' | 'unchanged' | 'unsupported' | 'failed';
  readonly detail?: string;
  /** Parts the provider rejected and that were left out (the rest was set); reported, not a failure. */
  readonly unsupported?: readonly string[];
}

/** What `provision` did to one bucket. */
export interface ProvisionResult {
  readonly bucket: string;
  readonly variables: readonly string[];
  readonly bucketStatus: FeatureOutcome;
  readonly versioning?: FeatureOutcome;
  readonly lifecycle?: FeatureOutcome;
}

/** Errors that mean "this provider does not implement that API". */
function isUnsupported(err: unknown): boolean {
  const code = errorCode(err);
  const status = httpStatus(err);
  return (
    code === 'NotImplemented' ||
    code === 'MethodNotAllowed' ||
    code === 'XNotImplemented' ||
    code === 'UnsupportedOperation' ||
    status === 501 ||
    status === 405
  );
}

/** Runs `provision`; returns the exit code. */
export async function runProvision(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('provision', argv, {
    ...SOURCE_OPTIONS,
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const timeoutMs = timeoutFlag(flags, DEFAULT_TIMEOUT_SECONDS);
  const loaded = loadBackendEnvFromFlags(io, flags);
  const settings = backendS3Settings(loaded.values);
  if (settings.endpoint === undefined) {
    throw new CliError(
      `${loaded.source} has no ${S3_ENDPOINT_URL}, so it points at AWS S3. On AWS, create the buckets with ` +
        '`cdk deploy` (hardened buckets, least-privilege access), then `convex-storage env --stack ConvexStorage-<stage>`. ' +
        `provision is for other providers: set ${S3_ENDPOINT_URL}.`,
    );
  }
  const errors = [...fileProblemFindings(loaded.problems ?? []), ...checkBackendEnv(loaded.values)].filter((f) => f.level === 'error');
  if (errors.length > 0) {
    throw new CliError(`Fix ${loaded.source} first:\n${errors.map((f) => `  ${f.message}`).join('\n')}`);
  }

  io.stderr(`Provisioning buckets at ${settings.endpoint} (from ${loaded.source})\n`);
  const client = createBackendS3Client(loaded.values, { timeoutMs, maxAttempts: 2 });
  let results: ProvisionResult[];
  try {
    // Sequential: bucket creation is rare, and ordered output is easier to read.
    results = [];
    for (const target of bucketTargets(loaded.values)) {
      const result = await provisionBucket(client, target, { ...settings, timeoutMs });
      io.stderr(formatResult(result));
      results.push(result);
    }
  } finally {
    client.destroy();
  }

  const failed = results.filter((r) => [r.bucketStatus, r.versioning, r.lifecycle].some((f) => f?.status === 'failed'));
  const unsupported = results.some((r) => [r.versioning, r.lifecycle].some((f) => f?.status === 'unsupported' || (f?.unsupported?.length ?? 0) > 0));
  if (booleanFlag(flags, 'json')) {
    io.stdout(`${JSON.stringify({ ok: failed.length === 0, endpoint: settings.endpoint, buckets: results }, null, 2)}\n`);
  } else if (failed.length > 0) {
    io.stdout(`Result: FAILED for ${failed.map((r) => r.bucket).join(', ')}.\n`);
  } else {
    io.stdout(
      `Result: OK: ${results.length} bucket${results.length === 1 ? '' : 's'} ready.` +
        (unsupported ? ' Some features are not supported by this provider (see above); nothing to fix on your side.' : '') +
        ' Next: convex-storage verify\n',
    );
  }
  return failed.length === 0 ? EXIT.ok : EXIT.failure;
}

/** Creates one bucket if missing, then turns on versioning and sets the lifecycle rules. */
export async function provisionBucket(
  client: S3Client,
  target: BucketTarget,
  ctx: { region?: string; endpoint?: string; forcePathStyle: boolean; credentialSource: 'env-keys' | 'default-chain'; timeoutMs: number },
): Promise<ProvisionResult> {
  const { bucket, variables } = target;
  const bucketStatus = await ensureBucket();
  if (bucketStatus.status === 'failed') {
    return { bucket, variables, bucketStatus };
  }
  const versioning = await enableVersioning();
  const lifecycle = await setLifecycle(lifecycleRulesFor(target.kinds));
  return { bucket, variables, bucketStatus, versioning, lifecycle };

  async function ensureBucket(): Promise<FeatureOutcome> {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return { status: 'created' };
    } catch (err) {
      const code = errorCode(err);
      if (code === 'BucketAlreadyOwnedByYou') {
        return { status: 'exists' };
      }
      if (code !== 'BucketAlreadyExists') {
        return { status: 'failed', detail: failure(err) };
      }
    }
    // BucketAlreadyExists: ours (some providers say so for an existing bucket of the same
    // account) or someone else's. HeadBucket tells: only our own answers 200.
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      return { status: 'exists' };
    } catch (err) {
      return {
        status: 'failed',
        detail: `the name '${bucket}' is taken by another account (${describeError(err)}): choose another name in ${variables.join(', ')}`,
      };
    }
  }

  async function enableVersioning(): Promise<FeatureOutcome> {
    try {
      const before = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      if (before.Status === 'Enabled') {
        return { status: 'unchanged', detail: 'already enabled' };
      }
    } catch (err) {
      if (isUnsupported(err)) {
        return { status: 'unsupported', detail: `the provider has no bucket versioning API (${describeError(err)})` };
      }
      // Otherwise try to set it; that error is the one worth reporting.
    }
    try {
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    } catch (err) {
      if (isUnsupported(err)) {
        return { status: 'unsupported', detail: `the provider does not support versioning (${describeError(err)})` };
      }
      if (errorCode(err) === 'BucketAlreadyExists' || errorCode(err) === 'BucketAlreadyOwnedByYou') {
        // Seen on s3rver: it routes PUT ?versioning to bucket creation, i.e. it has no versioning API.
        return { status: 'unsupported', detail: `the provider answers the versioning request as a bucket creation (${describeError(err)})` };
      }
      return { status: 'failed', detail: failure(err) };
    }
    // Some servers answer the request without understanding it: trust only a read-back.
    try {
      const after = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      if (after.Status === 'Enabled') {
        return { status: 'enabled' };
      }
      return { status: 'unsupported', detail: `the provider accepted the request, but versioning reads back as '${after.Status ?? 'off'}'` };
    } catch (err) {
      return { status: 'unsupported', detail: `versioning cannot be read back (${describeError(err)})` };
    }
  }

  async function setLifecycle(ours: LifecycleRule[]): Promise<FeatureOutcome> {
    // A lifecycle PUT replaces all rules: keep the user's own rules, replace ours by ID.
    let existing: LifecycleRule[] = [];
    try {
      existing = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
    } catch (err) {
      if (isUnsupported(err)) {
        return { status: 'unsupported', detail: `the provider has no lifecycle API (${describeError(err)}): expire old exports and abandoned uploads by hand` };
      }
      if (errorCode(err) !== 'NoSuchLifecycleConfiguration') {
        return { status: 'failed', detail: failure(err) };
      }
    }
    const kept = existing.filter((rule) => !(rule.ID ?? '').startsWith(RULE_ID_PREFIX));
    const current = JSON.stringify(existing.filter((rule) => (rule.ID ?? '').startsWith(RULE_ID_PREFIX)).map(ruleShape));
    /** Sets `rules` unless they are already set; true when it changed anything. */
    const put = async (rules: LifecycleRule[]): Promise<boolean> => {
      if (JSON.stringify(rules.map(ruleShape)) === current) {
        return false;
      }
      await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...kept, ...rules] } }));
      return true;
    };
    const done = (changed: boolean, rules: LifecycleRule[], left: readonly RulePart[] = [], why?: unknown): FeatureOutcome => ({
      status: changed ? 'set' : 'unchanged',
      detail:
        (changed ? rules.map((r) => r.ID).join(', ') : `${rules.length} rules already set`) +
        (left.length > 0 ? `; without ${left.map((p) => p.name).join(', ')}, which the provider rejects (${describeError(why)})` : ''),
      ...(left.length > 0 ? { unsupported: left.map((p) => p.name) } : {}),
    });

    let rejection: unknown;
    try {
      return done(await put(ours), ours);
    } catch (err) {
      if (isUnsupported(err)) {
        return { status: 'unsupported', detail: `the provider does not support these lifecycle rules (${describeError(err)})` };
      }
      if (!rejectsRuleField(err)) {
        return { status: 'failed', detail: failure(err) };
      }
      rejection = err;
    }

    // The provider rejects some field (R2, for one, has no noncurrent versions): leave out one
    // part after another until it accepts the rules, then put back what it accepts after all.
    const present = RULE_PARTS.filter((part) => ours.some(part.present));
    let left: RulePart[] = [];
    let accepted: { changed: boolean; rules: LifecycleRule[] } | undefined;
    for (const part of present) {
      left = [...left, part];
      const rules = withoutParts(ours, left);
      if (rules.length === 0) {
        break;
      }
      try {
        accepted = { changed: await put(rules), rules };
        break;
      } catch (err) {
        if (!rejectsRuleField(err)) {
          return { status: 'failed', detail: failure(err) };
        }
      }
    }
    if (accepted === undefined) {
      return { status: 'failed', detail: `${failure(rejection)}; leaving out ${present.map((p) => p.name).join(', ')} did not help` };
    }
    for (const part of left.slice(0, -1)) {
      const fewer = left.filter((p) => p !== part);
      const rules = withoutParts(ours, fewer);
      try {
        const changed = await put(rules);
        accepted = { changed: accepted.changed || changed, rules };
        left = fewer;
      } catch (err) {
        if (!rejectsRuleField(err)) {
          return { status: 'failed', detail: failure(err) };
        }
      }
    }
    return done(accepted.changed, accepted.rules, left, rejection);
  }

  function failure(err: unknown): string {
    const diagnosis = diagnose(err, { ...ctx, step: 'createUpload', bucket, variables });
    // Bucket-level calls need bucket-level actions, not the backend's object actions.
    return diagnosis.code === 'access-denied'
      ? `access denied (${describeError(err)}): these credentials may not manage buckets. Run provision with the provider's admin key`
      : `${diagnosis.message} (setting: ${diagnosis.setting})`;
  }
}

/** A 400 answer to a lifecycle PUT: the provider does not accept some field of the rules. */
function rejectsRuleField(err: unknown): boolean {
  const code = errorCode(err);
  return httpStatus(err) === 400 && (code === 'InvalidArgument' || code === 'MalformedXML' || code === 'InvalidRequest');
}

/** One part of our lifecycle rules that a provider may not support, and how to leave it out. */
interface RulePart {
  readonly name: string;
  readonly present: (rule: LifecycleRule) => boolean;
  readonly strip: (rule: LifecycleRule) => LifecycleRule;
}

/** In the order they are left out: the likeliest to be unsupported first. */
const RULE_PARTS: readonly RulePart[] = [
  {
    name: 'noncurrent-version expiration',
    present: (r) => r.NoncurrentVersionExpiration !== undefined,
    strip: ({ NoncurrentVersionExpiration: _, ...rest }) => rest,
  },
  {
    name: 'expired delete marker removal',
    present: (r) => r.Expiration?.ExpiredObjectDeleteMarker !== undefined,
    strip: (r) => ({ ...r, Expiration: withoutUndefined({ ...r.Expiration, ExpiredObjectDeleteMarker: undefined }) }),
  },
  {
    name: 'abort of incomplete multipart uploads',
    present: (r) => r.AbortIncompleteMultipartUpload !== undefined,
    strip: ({ AbortIncompleteMultipartUpload: _, ...rest }) => rest,
  },
  {
    name: 'current-object expiration',
    present: (r) => r.Expiration?.Days !== undefined,
    strip: (r) => ({ ...r, Expiration: withoutUndefined({ ...r.Expiration, Days: undefined }) }),
  },
];

function withoutUndefined<T extends object>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
}

/** The rules without `parts`; a rule left with no action at all is dropped. */
function withoutParts(rules: readonly LifecycleRule[], parts: readonly RulePart[]): LifecycleRule[] {
  return rules
    .map((rule) => parts.reduce((r, part) => part.strip(r), rule))
    .map((rule) => withoutUndefined(rule) as LifecycleRule)
    .filter((rule) => rule.Expiration !== undefined || rule.NoncurrentVersionExpiration !== undefined || rule.AbortIncompleteMultipartUpload !== undefined);
}

/** A rule reduced to what matters for comparison (providers may add or drop empty fields). */
function ruleShape(rule: LifecycleRule): unknown {
  return {
    id: rule.ID,
    status: rule.Status,
    abort: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    noncurrent: rule.NoncurrentVersionExpiration?.NoncurrentDays,
    days: rule.Expiration?.Days,
    marker: rule.Expiration?.ExpiredObjectDeleteMarker,
  };
}

function formatResult(result: ProvisionResult): string {
  const lines = [`  ${result.bucket} (${result.variables.join(', ')})`];
  const show = (label: string, outcome?: FeatureOutcome) => {
    if (outcome) {
      const status = outcome.status === 'failed' ? 'FAILED' : outcome.status === 'unsupported' ? 'not supported by this provider' : outcome.status;
      lines.push(`    ${label}: ${status}${outcome.detail ? ` - ${outcome.detail}` : ''}`);
      if (outcome.unsupported && outcome.unsupported.length > 0) {
        lines.push(`    not supported by this provider: ${outcome.unsupported.join(', ')}`);
      }
    }
  };
  show('bucket', result.bucketStatus);
  show('versioning', result.versioning);
  show('lifecycle rules', result.lifecycle);
  return `${lines.join('\n')}\n`;
}
