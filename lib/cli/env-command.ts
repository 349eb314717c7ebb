/**
 * `convex-storage env`: writes (or prints) the backend's `.env` from the storage stack or for a
 * provider, merged into the existing file.
 */
import { resolve } from 'node:path';
import {
  AWS_ACCESS_KEY_ID,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  INSTANCE_NAME,
  PRESENCE_FLAG_VARS,
  REQUIRED_S3_VARS,
  SECRET_VARS,
  STRICT_BOOLEAN_VARS,
  isStrictBooleanValue,
} from '../backend-env';
import { formatDotEnvLine, mergeDotEnv, parseDotEnv } from '../dotenv';
import { DEFAULT_INSTANCE_NAME } from '../instance-name';
import { STORAGE_KINDS } from '../storage-kinds';
import { booleanFlag, parseFlags, stringFlag, type Flags } from './args';
import { checkBackendEnv, envValue, missingRequired } from './env-checks';
import { readIfExists, replaceEnvFile } from './env-file';
import { bucketFlagName, planFromProvider, planFromStackOutputs, type EnvPlan } from './env-plan';
import { CliError, EXIT, UsageError, type CliIo } from './io';
import { describeStackOutputs, readAccessKeySecret, readOutputsFile } from './stack-outputs';

/** The `env` command's options (also used to generate its help). */
export const ENV_OPTIONS = {
  'outputs-file': { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  provider: { type: 'string' },
  endpoint: { type: 'string' },
  bucket: { type: 'string' },
  'bucket-prefix': { type: 'string' },
  ...Object.fromEntries(STORAGE_KINDS.map((k) => [bucketFlagName(k.bucketSuffix), { type: 'string' }])),
  role: { type: 'boolean' },
  kms: { type: 'boolean' },
  out: { type: 'string' },
  print: { type: 'boolean' },
  'show-secrets': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MASK = '********';

/** Runs `env` with already-split arguments; returns the exit code. */
export async function runEnv(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('env', argv, ENV_OPTIONS);
  const plan = await buildPlan(flags, io);
  validatePlan(plan);
  for (const note of plan.notes) {
    io.stderr(`note: ${note}\n`);
  }

  if (booleanFlag(flags, 'print')) {
    if (stringFlag(flags, 'out') !== undefined) {
      throw new UsageError('--print writes to stdout; do not combine it with --out.');
    }
    const show = booleanFlag(flags, 'show-secrets');
    const lines = plan.set.map(({ key, value }) => formatDotEnvLine(key, !show && SECRET_VARS.includes(key) ? MASK : value));
    io.stdout(`${lines.join('\n')}\n`);
    if (!show && plan.set.some((e) => SECRET_VARS.includes(e.key))) {
      io.stderr('note: secrets are masked; add --show-secrets to print them.\n');
    }
    return EXIT.ok;
  }
  if (booleanFlag(flags, 'show-secrets')) {
    throw new UsageError('--show-secrets applies to --print only.');
  }

  const out = resolve(io.cwd, stringFlag(flags, 'out') ?? '.env');
  let previous: string | undefined;
  try {
    previous = readIfExists(out);
  } catch (err) {
    throw new CliError(`Cannot read ${out} (${(err as NodeJS.ErrnoException).code ?? String(err)}): fix its permissions or pass another --out.`);
  }
  checkInstanceNameKept(out, previous, plan, io);
  const merged = mergeDotEnv(
    previous ?? '',
    plan.set,
    plan.remove.map((r) => r.key),
    `Convex S3 storage, written by convex-storage env from ${plan.source}`,
  );

  // Everything is validated on the merged result before anything touches the disk.
  const values = parseDotEnv(merged.text);
  const missing = missingRequired(values);
  if (missing.length > 0) {
    throw new CliError(`Refusing to write ${out}: ${missing.join(', ')} would be empty, and the backend would silently use local disk.`);
  }
  if (plan.requiresKeys && (envValue(values, AWS_ACCESS_KEY_ID) === undefined || envValue(values, AWS_SECRET_ACCESS_KEY) === undefined)) {
    throw new CliError(
      `Refusing to write ${out}: ${plan.source} needs access keys and none are set. ` +
        `Export ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY} (the provider's key for the backend) and run again.`,
    );
  }
  for (const finding of checkBackendEnv(values)) {
    if (finding.level !== 'info') {
      io.stderr(`warning: ${out}: ${finding.message}\n`);
    }
  }

  let backup: string | undefined;
  try {
    backup = replaceEnvFile(out, merged.text, previous);
  } catch (err) {
    throw new CliError(`Cannot write ${out} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the directory exists and is writable.`);
  }
  const reasons = new Map(plan.remove.map((r) => [r.key, r.reason]));
  io.stderr(`Wrote ${out} (mode 0600) from ${plan.source}.\n`);
  if (merged.replaced.length > 0) {
    io.stderr(`  updated: ${merged.replaced.join(', ')}\n`);
  }
  if (merged.appended.length > 0) {
    io.stderr(`  added:   ${merged.appended.join(', ')}\n`);
  }
  for (const key of new Set(merged.removed)) {
    io.stderr(`  removed: ${key}${reasons.has(key) ? ` (${reasons.get(key)})` : ' (a later duplicate line would have overridden the new value)'}\n`);
  }
  if (backup !== undefined) {
    io.stderr(`  backup of the previous file: ${backup} (mode 0600)\n`);
  }
  io.stderr(`Next: convex-storage verify --env-file ${stringFlag(flags, 'out') ?? '.env'}\n`);
  return EXIT.ok;
}

async function buildPlan(flags: Flags, io: CliIo): Promise<EnvPlan> {
  const provider = stringFlag(flags, 'provider');
  const outputsFile = stringFlag(flags, 'outputs-file');
  const stack = stringFlag(flags, 'stack');
  const region = stringFlag(flags, 'region');

  if (provider !== undefined) {
    if (outputsFile !== undefined || stack !== undefined) {
      throw new UsageError('--provider describes the storage itself: do not combine it with --stack or --outputs-file.');
    }
    return planFromProvider(
      {
        provider,
        region,
        endpoint: stringFlag(flags, 'endpoint'),
        bucket: stringFlag(flags, 'bucket'),
        bucketPrefix: stringFlag(flags, 'bucket-prefix'),
        buckets: Object.fromEntries(STORAGE_KINDS.map((k) => [k.kind, stringFlag(flags, bucketFlagName(k.bucketSuffix))])),
        role: booleanFlag(flags, 'role'),
        kms: booleanFlag(flags, 'kms'),
      },
      io.env,
    );
  }

  const providerOnly = ['endpoint', 'bucket', 'bucket-prefix', 'role', 'kms', ...STORAGE_KINDS.map((k) => bucketFlagName(k.bucketSuffix))];
  const misplaced = providerOnly.filter((name) => flags[name] !== undefined);
  if (misplaced.length > 0) {
    throw new UsageError(`--${misplaced[0]} applies to --provider only; the stack's outputs name the buckets.`);
  }
  const readSecret = (arn: string) => readAccessKeySecret(arn, region ?? io.env[AWS_REGION]);
  if (outputsFile !== undefined) {
    const { stack: chosen, outputs } = readOutputsFile(resolve(io.cwd, outputsFile), stack);
    return planFromStackOutputs(chosen, outputs, readSecret);
  }
  if (stack !== undefined) {
    const outputs = await describeStackOutputs(stack, region ?? io.env[AWS_REGION]);
    return planFromStackOutputs(stack, outputs, readSecret);
  }
  throw new UsageError(
    'Say where the values come from: --stack NAME (a deployed stack, e.g. ConvexStorage-dev), ' +
      '--outputs-file cdk-outputs.json [--stack NAME], or --provider aws|r2|minio|spaces|b2. See: convex-storage env --help',
  );
}

/**
 * Refuses to change the INSTANCE_NAME of an existing file: the backend's S3 keys start with
 * `<INSTANCE_NAME>-<uuid>/` (stored in its database at first boot) and its SQL database is named
 * after it, so a new name strands all data. Warns when the file had no name but already pointed
 * the backend at buckets: that backend ran as the image's default.
 */
function checkInstanceNameKept(out: string, previous: string | undefined, plan: EnvPlan, io: CliIo): void {
  const wanted = plan.set.find((e) => e.key === INSTANCE_NAME)?.value;
  if (wanted === undefined || previous === undefined) {
    return;
  }
  const existing = parseDotEnv(previous);
  const current = envValue(existing, INSTANCE_NAME);
  if (current !== undefined && current !== wanted) {
    throw new CliError(
      `Refusing to write ${out}: it has ${INSTANCE_NAME}='${current}', ${plan.source} says '${wanted}'. ` +
        `Changing ${INSTANCE_NAME} strands all data: the backend's objects live under '${current}-<uuid>/' and its database ` +
        `is named after '${current}', so it refuses to start or cannot find them (and the stack's access policy covers only ` +
        `'${wanted}-<uuid>/' keys). Deploy the stack with instanceName '${current}' (e.g. cdk deploy -c instanceName=${current}); ` +
        `only for a brand-new deployment with no data, remove the ${INSTANCE_NAME} line from ${out} and run again.`,
    );
  }
  if (current === undefined && missingRequired(existing).length < REQUIRED_S3_VARS.length) {
    io.stderr(
      `warning: ${out} had no ${INSTANCE_NAME} but already named buckets: a backend that ran with it used the default ` +
        `'${DEFAULT_INSTANCE_NAME}' unless ${INSTANCE_NAME} came from elsewhere. Writing ${INSTANCE_NAME}='${wanted}' then strands ` +
        `its data; deploy the stack with instanceName '${DEFAULT_INSTANCE_NAME}' in that case.\n`,
    );
  }
}

/** Checks the plan itself: the six required values, exact booleans, no presence flag. */
function validatePlan(plan: EnvPlan): void {
  const values = new Map(plan.set.map((e) => [e.key, e.value]));
  const empty = REQUIRED_S3_VARS.filter((key) => !values.get(key));
  if (empty.length > 0) {
    throw new CliError(`Refusing to write: ${empty.join(', ')} would be empty (from ${plan.source}).`);
  }
  for (const key of Object.values(STRICT_BOOLEAN_VARS)) {
    const value = values.get(key);
    if (value !== undefined && !isStrictBooleanValue(value)) {
      throw new CliError(`Refusing to write ${key}='${value}': the backend reads only exactly true or false.`);
    }
  }
  for (const key of Object.values(PRESENCE_FLAG_VARS)) {
    if (values.has(key)) {
      throw new CliError(`Refusing to write ${key}: any value, false included, switches it on.`);
    }
  }
}
