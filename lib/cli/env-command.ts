/**
 * `convex-storage env`: writes (or prints) the backend's `.env` from the storage stack or for a
 * provider, merged into the existing file.
 */
import { dirname, join, resolve } from 'node:path';
import {
  AWS_ACCESS_KEY_ID,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  INSTANCE_NAME,
  PRESENCE_FLAG_VARS,
  REQUIRED_S3_VARS,
  S3_ENDPOINT_URL,
  SECRET_VARS,
  STRICT_BOOLEAN_VARS,
  isStrictBooleanValue,
} from '../backend-env';
import { formatDotEnvLine, mergeDotEnv, parseDotEnv, readDotEnv } from '../dotenv';
import { DEFAULT_INSTANCE_NAME } from '../instance-name';
import { STORAGE_KINDS } from '../storage-kinds';
import { booleanFlag, parseFlags, stringFlag, type Flags } from './args';
import { checkBackendEnv, envValue, missingRequired } from './env-checks';
import { readIfExists, replaceEnvFile, resolveLinkTarget, type BackupResult } from './env-file';
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
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MASK = '********';

/** The header comment above the block `env` appends; rewritten when a later run changes values. */
const HEADER_PREFIX = 'Convex S3 storage, written by convex-storage env from ';
const HEADER_LINE = /^# Convex S3 storage, written by convex-storage env from [^\r\n]*$/gm;

/**
 * Variables that say where the backend's objects are. The backend does not notice when one
 * changes: it starts and cannot find what it stored.
 */
const LOCATION_VARS: readonly string[] = [AWS_REGION, S3_ENDPOINT_URL, ...STORAGE_KINDS.map((k) => k.envVar)];

/** Runs `env` with already-split arguments; returns the exit code. */
export async function runEnv(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('env', argv, ENV_OPTIONS);
  // Flag conflicts first, so a bad command line makes no AWS call.
  const print = booleanFlag(flags, 'print');
  if (print && stringFlag(flags, 'out') !== undefined) {
    throw new UsageError('--print writes to stdout; do not combine it with --out.');
  }
  if (print && booleanFlag(flags, 'force')) {
    throw new UsageError('--force applies to writing a file; --print writes none.');
  }
  if (!print && booleanFlag(flags, 'show-secrets')) {
    throw new UsageError('--show-secrets applies to --print only.');
  }
  const plan = await buildPlan(flags, io);
  validatePlan(plan);
  for (const note of plan.notes) {
    io.stderr(`note: ${note}\n`);
  }

  if (print) {
    // The same refusal as writing (which also accepts keys already in the file: --print has none).
    const printed = new Set(plan.set.map((e) => e.key));
    if (plan.requiresKeys && !(printed.has(AWS_ACCESS_KEY_ID) && printed.has(AWS_SECRET_ACCESS_KEY))) {
      throw new CliError(
        `Refusing to print: ${plan.source} needs access keys and none are set, so the block would not work. ` +
          `Export ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY} (the provider's key for the backend) and run again.`,
      );
    }
    const show = booleanFlag(flags, 'show-secrets');
    const lines = plan.set.map(({ key, value }) => formatDotEnvLine(key, !show && SECRET_VARS.includes(key) ? MASK : value));
    io.stdout(`${lines.join('\n')}\n`);
    if (!show && plan.set.some((e) => SECRET_VARS.includes(e.key))) {
      io.stderr('note: secrets are masked; add --show-secrets to print them.\n');
    }
    return EXIT.ok;
  }

  const out = resolve(io.cwd, stringFlag(flags, 'out') ?? '.env');
  let previous: string | undefined;
  let target: string;
  try {
    target = resolveLinkTarget(out);
    previous = readIfExists(target);
  } catch (err) {
    throw new CliError(fileErrorMessage('read', out, err));
  }
  const force = booleanFlag(flags, 'force');
  checkInstanceNameKept(out, previous, plan, force, io);
  // One line: a line break in the source (a stack name from an outputs file's JSON keys) would
  // otherwise put an assignment of its own into the file.
  const header = `${HEADER_PREFIX}${plan.source.replace(/[\r\n]+/g, ' ')}`;
  // One header per file: a file that has one keeps it in place (appended keys go below without
  // a second), and it is rewritten to name the latest source when values change.
  const hadHeader = previous !== undefined && new RegExp(HEADER_LINE.source, 'm').test(previous);
  const merged = mergeDotEnv(
    previous ?? '',
    plan.set,
    plan.remove.map((r) => r.key),
    hadHeader ? undefined : header,
  );
  const unchanged = previous !== undefined && merged.text === previous;
  const text = unchanged ? merged.text : merged.text.replace(HEADER_LINE, `# ${header}`);

  // Everything is validated on the merged result before anything touches the disk.
  const values = parseDotEnv(text);
  checkStorageLocationKept(out, previous, values, plan, force, io);
  // No check for empty required variables here: the plan builders refuse an empty one
  // (planFromStackOutputs a missing or empty output, planFromProvider an empty region or bucket
  // name), and the merge writes every planned value on exactly one line that parses back to it.
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
  // Lines of the user's own that the loader cannot read stay as they are (env rewrites only its
  // variables), but the file would not load: say so now rather than at the backend's start.
  for (const problem of readDotEnv(text).problems) {
    io.stderr(`warning: ${out} ${problem.message}\n`);
  }
  const next = `Next: convex-storage verify --file ${stringFlag(flags, 'out') ?? '.env'}\n`;
  if (unchanged) {
    io.stderr(`${out} unchanged: it already has these values from ${plan.source}. Nothing written, no backup made.\n${next}`);
    return EXIT.ok;
  }

  let backup: BackupResult | undefined;
  try {
    backup = replaceEnvFile(target, text, previous);
  } catch (err) {
    throw new CliError(fileErrorMessage('write', target, err));
  }
  const reasons = new Map(plan.remove.map((r) => [r.key, r.reason]));
  const through = target === out ? '' : ` (a symbolic link: wrote its target ${target})`;
  io.stderr(`Wrote ${out}${through} (mode 0600) from ${plan.source}.\n`);
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
    io.stderr(
      backup.existing
        ? `  the previous file is already backed up as ${backup.path}\n`
        : `  backup of the previous file: ${backup.path} (mode 0600)\n`,
    );
  }
  io.stderr(next);
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
function checkInstanceNameKept(out: string, previous: string | undefined, plan: EnvPlan, force: boolean, io: CliIo): void {
  const wanted = plan.set.find((e) => e.key === INSTANCE_NAME)?.value;
  if (wanted === undefined || previous === undefined) {
    return;
  }
  const existing = readDotEnv(previous).values;
  const current = envValue(existing, INSTANCE_NAME);
  if (current !== undefined && current !== wanted) {
    throw new CliError(
      `Refusing to write ${out}: it has ${INSTANCE_NAME}='${current}', ${plan.source} says '${wanted}'. ` +
        `Changing ${INSTANCE_NAME} strands all data: the backend's objects live under '${current}-<uuid>/' and its database ` +
        `is named after '${current}', so it refuses to start or cannot find them (and the stack's access policy covers only ` +
        `'${wanted}-<uuid>/' keys). Deploy the stack with instanceName '${current}' (e.g. cdk deploy -c instanceName=${current}); ` +
        `only for a brand-new deployment with no data, remove the ${INSTANCE_NAME} line from ${out} and run again.` +
        (force ? ` (--force does not override this: the stack's access policy allows only '${wanted}-<uuid>/' keys.)` : ''),
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

/**
 * Refuses, unless `--force`, to change where the backend's objects are: a non-empty
 * `AWS_REGION`, `S3_ENDPOINT_URL` or bucket variable of the existing file that would get another
 * value (or be removed). The backend does not notice: it starts, cannot find its objects, and
 * everything stored so far is stranded. The old values are read as the loader reads them: a line
 * it cannot read (`BUCKET="unterminated`) never pointed the backend anywhere.
 */
function checkStorageLocationKept(
  out: string,
  previous: string | undefined,
  next: ReadonlyMap<string, string>,
  plan: EnvPlan,
  force: boolean,
  io: CliIo,
): void {
  if (previous === undefined) {
    return;
  }
  const existing = readDotEnv(previous).values;
  const changes = LOCATION_VARS.flatMap((key) => {
    const before = envValue(existing, key);
    const after = envValue(next, key);
    if (before === undefined || before === after) {
      return [];
    }
    const shown = after === undefined ? (key === S3_ENDPOINT_URL ? '(removed: AWS S3)' : '(removed)') : `'${after}'`;
    return [`  ${key}: '${before}' -> ${shown}`];
  });
  if (changes.length === 0) {
    return;
  }
  const list = changes.join('\n');
  if (force) {
    io.stderr(`warning: --force: changing where the backend's data is (${out}):\n${list}\n`);
    return;
  }
  const neverS3 =
    missingRequired(existing).length > 0
      ? ` (${out} does not set ${AWS_REGION} and all five bucket variables, so a backend that used it kept its data on local ` +
        'disk, not in these buckets: then --force is safe)'
      : '';
  throw new CliError(
    `Refusing to write ${out}: ${plan.source} would change where the backend's data is:\n${list}\n` +
      'The backend does not notice a new bucket name, endpoint or region: it starts, cannot find the objects it stored ' +
      '(files, function modules, search indexes, exports), and all data stored so far is stranded. ' +
      `Run again with --force only if the backend has no data yet${neverS3}, or when you are moving it: ` +
      '`npx convex export --path backup.zip` from the backend first, then env --force, start the backend on the new ' +
      'storage, and `npx convex import backup.zip`. ' +
      (plan.source.startsWith('--provider')
        ? 'If you meant to keep the storage, pass the values in the file (--region, --endpoint, --bucket-prefix or the ' +
          'per-kind --<kind>-bucket flags) so nothing changes.'
        : 'If you meant to keep the storage, check that --stack / --outputs-file name the stack this backend already uses.'),
  );
}

/** What went wrong reading or writing the env file, and what to do about it. */
function fileErrorMessage(action: 'read' | 'write', path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const head = `Cannot ${action} ${path} (${code ?? String(err)})`;
  switch (code) {
    case 'EISDIR':
      return `${head}: it is a directory. --out names the file to write, e.g. --out ${join(path, '.env')}.`;
    case 'ENOTDIR':
    case 'ENOENT':
      return `${head}: its directory ${dirname(path)} does not exist. Create it, or pass another --out.`;
    case 'EACCES':
    case 'EPERM':
      return action === 'read'
        ? `${head}: you may not read it. Fix its permissions or pass another --out.`
        : `${head}: you may not write in ${dirname(path)}. Fix its permissions or pass another --out.`;
    case 'ELOOP':
      return `${head}: its symbolic links form a loop. Point the link at a file, or pass another --out.`;
    case 'EROFS':
      return `${head}: the file system is read-only. Pass another --out.`;
    default:
      return `${head}: check that the directory exists and is writable, or pass another --out.`;
  }
}

/** Checks the plan itself: exact booleans, no presence flag (the builders refuse empty required values). */
function validatePlan(plan: EnvPlan): void {
  const values = new Map(plan.set.map((e) => [e.key, e.value]));
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
