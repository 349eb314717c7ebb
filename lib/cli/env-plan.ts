/**
 * What `convex-storage env` writes: the variables to set and the ones to remove, from the
 * storage stack's outputs or from a provider preset. Pure, apart from the injected secret reader.
 */
import {
  AWS_ACCESS_KEY_ID,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN,
  CREDENTIAL_VARS,
  INSTANCE_NAME,
  REQUIRED_S3_VARS,
  S3_ENDPOINT_URL,
  STRICT_BOOLEAN_VARS,
  outputKeyFor,
  secretArnOutputKeyFor,
  strictBoolean,
} from '../backend-env';
import type { DotEnvEntry } from '../dotenv';
import { STORAGE_KINDS, type StorageKindSpec } from '../storage-kinds';
import { bucketNameProblems } from '../storage/bucket-names';
import { CliError, UsageError } from './io';
import { PROVIDER_NAMES, providerPreset, type ProviderPreset } from './providers';
import type { AccessKeyPair, StackOutputs } from './stack-outputs';

/** Variables to set and to remove, with notes for the user. */
export interface EnvPlan {
  /** Where the values come from, for messages. */
  readonly source: string;
  readonly set: readonly DotEnvEntry[];
  /** Variables that must be absent for the values to mean what they should. */
  readonly remove: readonly { readonly key: string; readonly reason: string }[];
  readonly notes: readonly string[];
  /** The backend cannot work without access keys (a non-AWS provider, or IAM-user mode). */
  readonly requiresKeys: boolean;
}

const FLAGS = STRICT_BOOLEAN_VARS;

/**
 * Plans the `.env` from the storage stack's outputs. Output keys come from `outputKeyFor`, the
 * rule the stack uses. In IAM-user mode the secret key is read with `readSecret`.
 */
export async function planFromStackOutputs(
  stack: string,
  outputs: StackOutputs,
  readSecret: (secretArn: string) => Promise<AccessKeyPair>,
): Promise<EnvPlan> {
  const missing = REQUIRED_S3_VARS.filter((v) => outputs[outputKeyFor(v)] === undefined);
  if (missing.length > 0) {
    throw new CliError(
      `Stack '${stack}' lacks the output${missing.length === 1 ? '' : 's'} ${missing.map(outputKeyFor).join(', ')}. ` +
        'Is it a storage stack of this project, deployed with a current version? Check --stack.',
    );
  }
  // Present but empty (a hand-edited or truncated outputs file): the backend would read the
  // variable as unset and silently keep its data on local disk.
  const empty = REQUIRED_S3_VARS.filter((v) => outputs[outputKeyFor(v)].trim() === '');
  if (empty.length > 0) {
    const one = empty.length === 1;
    throw new CliError(
      `Refusing to write: stack '${stack}' has the output${one ? '' : 's'} ${empty.map(outputKeyFor).join(', ')}, but ` +
        `${one ? 'it is' : 'they are'} empty, so ${empty.join(', ')} would be empty and the backend would silently use ` +
        'local disk. Read the outputs again (cdk deploy --outputs-file, or env --stack from the deployed stack).',
    );
  }
  const set: DotEnvEntry[] = REQUIRED_S3_VARS.map((key) => ({ key, value: outputs[outputKeyFor(key)] }));
  // The stack outputs INSTANCE_NAME when its access policy is narrowed to that name's keys: the
  // backend must run with exactly this name (runEnv refuses to change one already in the file).
  const instanceName = outputs[outputKeyFor(INSTANCE_NAME)];
  if (instanceName) {
    set.push({ key: INSTANCE_NAME, value: instanceName });
  }
  const remove: { key: string; reason: string }[] = [
    { key: S3_ENDPOINT_URL, reason: 'the stack is on AWS S3; an endpoint would send the backend elsewhere' },
    { key: FLAGS.forcePathStyle, reason: 'not needed on AWS S3' },
    { key: FLAGS.disableChecksums, reason: 'AWS S3 returns the CRC32 checksums the backend asks for' },
  ];
  const notes: string[] = [];

  // KMS mode: the stack says AWS_S3_DISABLE_SSE=true so the AES256 header does not override KMS.
  const sse = outputs[outputKeyFor(FLAGS.disableSse)];
  if (sse !== undefined) {
    if (sse !== 'true' && sse !== 'false') {
      throw new CliError(`Output ${outputKeyFor(FLAGS.disableSse)} is '${sse}', not true or false.`);
    }
    set.push({ key: FLAGS.disableSse, value: strictBoolean(sse === 'true') });
  } else {
    remove.push({ key: FLAGS.disableSse, reason: 'the buckets use SSE-S3, which the backend\'s AES256 header matches' });
  }

  const secretArn = outputs[secretArnOutputKeyFor(AWS_SECRET_ACCESS_KEY)];
  const keyId = outputs[outputKeyFor(AWS_ACCESS_KEY_ID)];
  if (secretArn) {
    const pair = await readSecret(secretArn);
    if (keyId && keyId !== pair.accessKeyId) {
      // The stack writes its active key to both the output and the secret, so they differ only
      // when the outputs are stale (an old outputs file, a stack not yet updated) or the secret
      // was edited by hand.
      notes.push(
        `The secret ${secretArn} holds key ${pair.accessKeyId}, but the stack output ${outputKeyFor(AWS_ACCESS_KEY_ID)} says ${keyId}. ` +
          'The stack writes its active key to both, so the outputs are stale (an old --outputs-file, or a deployment not ' +
          'finished) or the secret was edited by hand. Written: the secret\'s pair (key ' +
          `${pair.accessKeyId}), the one the secret holds now. Check it with convex-storage verify; if it fails, ` +
          'redeploy the stack (or re-run cdk deploy --outputs-file) and run env again.',
      );
    }
    set.push({ key: AWS_ACCESS_KEY_ID, value: pair.accessKeyId }, { key: AWS_SECRET_ACCESS_KEY, value: pair.secretAccessKey });
    remove.push({ key: AWS_SESSION_TOKEN, reason: 'the stack\'s key is long-lived; a stale session token would break it' });
  } else if (keyId) {
    throw new CliError(
      `Stack '${stack}' has ${outputKeyFor(AWS_ACCESS_KEY_ID)} but no ${secretArnOutputKeyFor(AWS_SECRET_ACCESS_KEY)}: cannot find the secret key.`,
    );
  } else {
    // Role mode: environment keys come first in the credential chain and would shadow the role.
    for (const key of CREDENTIAL_VARS) {
      remove.push({ key, reason: 'the backend uses an IAM role; keys in the environment would take precedence over it' });
    }
    notes.push('Role mode: no access keys are written. The backend needs an image from 2026-04-09 or later to start without them.');
  }
  return { source: `stack ${stack}`, set, remove, notes, requiresKeys: Boolean(secretArn) };
}

/** The flags of the provider form of `env`. */
export interface ProviderFlags {
  readonly provider: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly bucket?: string;
  readonly bucketPrefix?: string;
  /** Per-kind bucket names, by storage kind. */
  readonly buckets: Readonly<Record<string, string | undefined>>;
  /** AWS only: the backend uses an IAM role, write no keys. */
  readonly role: boolean;
  /** AWS only: the buckets use SSE-KMS. */
  readonly kms: boolean;
}

/** The `--<suffix>-bucket` flag of a storage kind, e.g. `--snapshot-imports-bucket`. */
export function bucketFlagName(bucketSuffix: string): string {
  return `${bucketSuffix}-bucket`;
}

/**
 * The bucket name of each kind and the flag it came from. A per-kind flag overrides the
 * `--bucket-prefix` name of its kind; `--bucket` (one bucket for all five) combines with neither.
 *
 * @throws UsageError on contradicting flags or a kind without a name.
 */
function bucketNames(flags: ProviderFlags): { kind: StorageKindSpec; name: string; flag: string }[] {
  const perKind = STORAGE_KINDS.filter((k) => flags.buckets[k.kind] !== undefined).map((k) => `--${bucketFlagName(k.bucketSuffix)}`);
  if (flags.bucket !== undefined && flags.bucketPrefix !== undefined) {
    throw new UsageError('--bucket (one bucket for all five kinds) and --bucket-prefix (one bucket per kind) contradict each other: pass one of them.');
  }
  if (flags.bucket !== undefined && perKind.length > 0) {
    throw new UsageError(
      `--bucket puts all five kinds in one bucket; ${perKind.join(', ')} would name another: pass --bucket alone, or per-kind ` +
        'flags (alone or with --bucket-prefix, whose names they override for their kinds).',
    );
  }
  return STORAGE_KINDS.map((kind) => {
    const flag = `--${bucketFlagName(kind.bucketSuffix)}`;
    const own = flags.buckets[kind.kind];
    if (own !== undefined) {
      return { kind, name: own, flag };
    }
    if (flags.bucket !== undefined) {
      return { kind, name: flags.bucket, flag: '--bucket' };
    }
    if (flags.bucketPrefix !== undefined) {
      return { kind, name: `${flags.bucketPrefix}-${kind.bucketSuffix}`, flag: '--bucket-prefix' };
    }
    throw new UsageError(
      `No bucket name for ${kind.envVar}: pass ${flag} NAME, --bucket-prefix PREFIX ` +
        '(names become PREFIX-<kind>), or --bucket NAME (one bucket for all five).',
    );
  });
}

/** Plans the `.env` for a provider from flags and the credentials in `processEnv`. */
export function planFromProvider(flags: ProviderFlags, processEnv: NodeJS.ProcessEnv): EnvPlan {
  const preset: ProviderPreset | undefined = providerPreset(flags.provider);
  if (!preset) {
    throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, not '${flags.provider}'.`);
  }
  const region = flags.region ?? preset.defaultRegion;
  if (!region) {
    throw new UsageError(`--region is required for ${preset.title} (the region of all five buckets).`);
  }

  const set: DotEnvEntry[] = [{ key: AWS_REGION, value: region }];
  const remove: { key: string; reason: string }[] = [];
  const notes: string[] = [preset.notes];

  if (preset.customEndpoint) {
    const endpoint = flags.endpoint ?? preset.endpointFor?.(region);
    if (!endpoint) {
      throw new UsageError(`--endpoint is required for ${preset.title}, e.g. --endpoint ${preset.endpointExample ?? 'https://...'}`);
    }
    if (!/^https?:\/\/[^/\s]+/.test(endpoint)) {
      throw new UsageError(`--endpoint must be an http(s) URL, e.g. ${preset.endpointExample ?? 'https://...'}; got '${endpoint}'.`);
    }
    set.push({ key: S3_ENDPOINT_URL, value: endpoint.replace(/\/+$/, '') });
  } else {
    if (flags.endpoint) {
      throw new UsageError('--endpoint is not used with --provider aws: the SDK derives the endpoint from --region.');
    }
    remove.push({ key: S3_ENDPOINT_URL, reason: 'AWS S3 needs no endpoint' });
  }
  if ((flags.role || flags.kms) && preset.name !== 'aws') {
    throw new UsageError(`--role and --kms apply to --provider aws only.`);
  }

  for (const { kind, name, flag } of bucketNames(flags)) {
    set.push({ key: kind.envVar, value: name });
    const problems = bucketNameProblems(name);
    if (problems.length > 0) {
      const given = flag === '--bucket-prefix' ? `--bucket-prefix '${flags.bucketPrefix ?? ''}' gives ${kind.envVar} the name '${name}', which` : `${flag} '${name}'`;
      throw new UsageError(
        `${given} is not a valid bucket name: it ${problems.join('; it ')}. S3 bucket names are 3 to 63 lowercase letters, ` +
          'digits, dots and hyphens, starting and ending with a letter or digit.',
      );
    }
  }

  const flagSettings: [string, boolean | undefined, string][] = [
    [FLAGS.forcePathStyle, preset.forcePathStyle, `${preset.title} does not need path-style addressing`],
    [FLAGS.disableSse, preset.disableSse || flags.kms || undefined, `${preset.title} accepts the AES256 SSE header`],
    [FLAGS.disableChecksums, preset.disableChecksums, `${preset.title} returns the CRC32 checksums the backend asks for`],
  ];
  for (const [key, on, whyOff] of flagSettings) {
    if (on) {
      set.push({ key, value: strictBoolean(true) });
    } else {
      remove.push({ key, reason: whyOff });
    }
  }

  const keyId = processEnv[AWS_ACCESS_KEY_ID];
  const secret = processEnv[AWS_SECRET_ACCESS_KEY];
  const token = processEnv[AWS_SESSION_TOKEN];
  if (flags.role) {
    for (const key of CREDENTIAL_VARS) {
      remove.push({ key, reason: 'the backend uses an IAM role; keys in the environment would take precedence over it' });
    }
  } else if (keyId && secret) {
    set.push({ key: AWS_ACCESS_KEY_ID, value: keyId }, { key: AWS_SECRET_ACCESS_KEY, value: secret });
    if (token) {
      set.push({ key: AWS_SESSION_TOKEN, value: token });
      notes.push(`${AWS_SESSION_TOKEN} was written: temporary credentials expire and the backend then fails.`);
    } else {
      remove.push({ key: AWS_SESSION_TOKEN, reason: 'the key written is long-lived; a stale session token would break it' });
    }
  } else if (keyId || secret) {
    throw new UsageError(`Only one of ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY} is set in the environment: set both (the ${preset.title} key for the backend).`);
  } else if (preset.customEndpoint) {
    notes.push(`No ${AWS_ACCESS_KEY_ID}/${AWS_SECRET_ACCESS_KEY} in the environment: keys already in the file are kept.`);
  } else {
    notes.push(`No keys in the environment and no --role: keys already in the file are kept.`);
  }
  return { source: `--provider ${preset.name}`, set, remove, notes, requiresKeys: preset.customEndpoint };
}
