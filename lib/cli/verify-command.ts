/**
 * `convex-storage verify`: checks a backend configuration the way the backend will use it.
 */
import { AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY, CREDENTIAL_VARS, INSTANCE_NAME, REQUIRED_S3_VARS, STRICT_BOOLEAN_VARS } from '../backend-env';
import { STORAGE_KINDS } from '../storage-kinds';
import { booleanFlag, parseFlags, timeoutFlag } from './args';
import type { DotEnvProblem } from '../dotenv';
import { checkBackendEnv, envValue, fileProblemFindings, type EnvFinding } from './env-checks';
import { SOURCE_OPTIONS, loadBackendEnvFromFlags } from './env-source';
import { EXIT, type CliIo } from './io';
import { PROBE_STEPS, probeBucket, type BucketProbeResult, type ProbeTarget, type StepOutcome } from './probe';
import { checksumsDisabledFinding, defaultRetentionOf } from './object-lock';
import { backendS3Settings, createBackendS3Client, type BackendS3Settings } from './s3-client';
import { bucketTargets } from './targets';

/** Seconds a request may take before the endpoint is reported as not answering. */
export const DEFAULT_TIMEOUT_SECONDS = 5;
/** One retry: enough to ride out a blip, few enough to report a dead endpoint fast. */
const MAX_ATTEMPTS = 2;

/** The machine-readable result of `verify --json`. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly source: string;
  readonly settings: BackendS3Settings;
  /** Which credentials the probes sign with, in words. */
  readonly credentials: string;
  readonly findings: readonly EnvFinding[];
  /** One entry per bucket variable, in table order (a shared bucket's result repeats). */
  readonly variables: readonly { readonly variable: string; readonly bucket: string; readonly result?: BucketProbeResult }[];
  /** Why no bucket was probed, when none was. */
  readonly skipped?: string;
}

/** {@link VerifyReport.skipped} under `--file-only`. */
const FILE_ONLY_SKIPPED = '--file-only: no request made';

/** Runs `verify` with already-split arguments; returns the exit code. */
export async function runVerify(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('verify', argv, {
    ...SOURCE_OPTIONS,
    'file-only': { type: 'boolean' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const timeoutMs = timeoutFlag(flags, DEFAULT_TIMEOUT_SECONDS);
  const loaded = loadBackendEnvFromFlags(io, flags);
  const report = await verifyEnv(loaded.values, loaded.source, {
    fileProblems: loaded.problems,
    timeoutMs,
    probe: !booleanFlag(flags, 'file-only'),
    progress: (line) => io.stderr(`${line}\n`),
    processEnv: io.env,
  });
  io.stdout(booleanFlag(flags, 'json') ? `${JSON.stringify(report, null, 2)}\n` : formatSummary(report));
  return report.ok ? EXIT.ok : EXIT.failure;
}

/** Options of {@link verifyEnv}. */
export interface VerifyOptions {
  readonly timeoutMs: number;
  /** False: check the variables only, make no request. */
  readonly probe: boolean;
  readonly progress: (line: string) => void;
  /**
   * The environment the SDK's default credential chain reads, used only to say which
   * credentials it will find (it reads environment keys first).
   *
   * @default - unknown: the chain is described in general terms
   */
  readonly processEnv?: NodeJS.ProcessEnv;
  /**
   * Lines of the file that its loader would not read as written. Errors among them are
   * reported first and stop the probes: the file does not load as it stands.
   *
   * @default - none
   */
  readonly fileProblems?: readonly DotEnvProblem[];
}

/** Checks the variables, then probes every distinct bucket concurrently. */
export async function verifyEnv(values: ReadonlyMap<string, string>, source: string, options: VerifyOptions): Promise<VerifyReport> {
  const settings = backendS3Settings(values);
  const lineFindings = fileProblemFindings(options.fileProblems ?? []);
  const unreadable = lineFindings.some((f) => f.level === 'error');
  const findings = [...lineFindings, ...checkBackendEnv(values)];
  const targets = bucketTargets(values);
  const willProbe = options.probe && !unreadable && settings.region !== undefined && targets.length > 0;
  const credentials = describeCredentials(values, source, options.processEnv);
  if (willProbe && settings.credentialSource === 'default-chain') {
    findings.push(defaultChainWarning(source, credentials));
  }
  options.progress(`Checking ${source}`);
  // Errors are listed once, in the result; warnings and notes only here.
  const errorCount = findings.filter((f) => f.level === 'error').length;
  if (errorCount > 0) {
    options.progress(`  ${describeErrors(findings)} (listed in the result)`);
  }
  for (const finding of findings.filter((f) => f.level !== 'error')) {
    options.progress(`  ${finding.level.padEnd(7)} ${finding.message}`);
  }
  if (errorCount === 0) {
    options.progress(`  ok      variables: ${REQUIRED_S3_VARS.join(', ')} are set, booleans are exact`);
  }

  let skipped: string | undefined;
  const results = new Map<string, BucketProbeResult>();
  if (!options.probe) {
    skipped = FILE_ONLY_SKIPPED;
  } else if (unreadable) {
    skipped = `${source} does not load as written (its unreadable lines are listed); fix them first`;
  } else if (settings.region === undefined) {
    skipped = `${AWS_REGION} is not set, so the backend would not use S3 at all`;
  } else if (targets.length === 0) {
    skipped = 'no bucket variable is set';
  } else {
    const client = createBackendS3Client(values, { timeoutMs: options.timeoutMs, maxAttempts: MAX_ATTEMPTS });
    try {
      // Without checksums no write reaches a bucket with a default retention: say why, not how it fails.
      const locked = settings.checksums ? [] : (await Promise.all(targets.map(async (t) => ({ target: t, retention: await defaultRetentionOf(client, t.bucket) }))))
        .filter((l) => l.retention !== undefined);
      for (const { target, retention } of locked) {
        findings.push(checksumsDisabledFinding(target.bucket, target.variables, retention!));
      }
      if (locked.length > 0) {
        skipped = `${STRICT_BOOLEAN_VARS.disableChecksums}=true cannot write to buckets with an object lock retention (listed)`;
        return { ok: false, source, settings, credentials, findings, variables: variableResults(values, results), skipped: reportSkipped(options, skipped) };
      }
      options.progress(`Probing ${targets.length} bucket${targets.length === 1 ? '' : 's'} ${describeSettings(settings, credentials)}`);
      const probed = await Promise.all(
        targets.map((target) =>
          probeBucket(client, target, {
            ...settings,
            instanceName: envValue(values, INSTANCE_NAME),
            timeoutMs: options.timeoutMs,
            onStep: (t, outcome) => options.progress(formatStep(t, outcome)),
          }),
        ),
      );
      probed.forEach((result) => results.set(result.bucket, result));
    } finally {
      client.destroy();
    }
  }
  if (skipped !== undefined) reportSkipped(options, skipped);

  const variables = variableResults(values, results);
  // Probes are skipped only for --file-only or when the variables already have errors.
  const ok = !findings.some((f) => f.level === 'error') && [...results.values()].every((r) => r.status !== 'failed');
  return { ok, source, settings, credentials, findings, variables, skipped };
}

function reportSkipped(options: VerifyOptions, skipped: string): string {
  options.progress(`Not probing: ${skipped}.`);
  return skipped;
}

function variableResults(values: ReadonlyMap<string, string>, results: ReadonlyMap<string, BucketProbeResult>): VerifyReport['variables'] {
  return STORAGE_KINDS.map((kind) => {
    const bucket = envValue(values, kind.envVar) ?? '';
    return { variable: kind.envVar, bucket, result: results.get(bucket) };
  });
}

/**
 * Which credentials the probes sign with. Keys in the configuration are passed to the client
 * explicitly, so environment keys cannot shadow them. Without them the SDK's default chain
 * decides, and it reads the process's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY first: say so
 * when they are set, since those are then the keys tested, not the file's.
 *
 * (Node 20 treats a `--env-file` after the script name as its own option, but measured on
 * 20.20 it only checks that the file exists and does not load it. A file Node does load, with
 * `node --env-file=.env` before the script, puts the same keys in both places: they are still
 * reported as the configuration's, which is where verify reads them from.)
 */
export function describeCredentials(values: ReadonlyMap<string, string>, source: string, processEnv?: NodeJS.ProcessEnv): string {
  if (backendS3Settings(values).credentialSource === 'env-keys') {
    return `keys from ${source} (${AWS_ACCESS_KEY_ID} ${envValue(values, AWS_ACCESS_KEY_ID) ?? ''})`;
  }
  const envKeyId = processEnv?.[AWS_ACCESS_KEY_ID];
  if (envKeyId && processEnv?.[AWS_SECRET_ACCESS_KEY]) {
    return (
      `${AWS_ACCESS_KEY_ID} ${envKeyId} from this process's environment (the default credential chain reads it first), ` +
      `not from ${source}`
    );
  }
  const profile = processEnv?.AWS_PROFILE;
  return profile
    ? `this machine's default credential chain (profile '${profile}')`
    : "this machine's default credential chain (profile or SSO session, or the role of the machine it runs on)";
}

/**
 * Role mode (no keys in the configuration): verify signs with whatever credentials this machine
 * has, often an administrator's, not the backend's role.
 */
function defaultChainWarning(source: string, credentials: string): EnvFinding {
  return {
    level: 'warning',
    variable: CREDENTIAL_VARS.join('/'),
    message:
      `No access keys in ${source}: verify signs its requests with ${credentials}, ` +
      'often an administrator\'s, which is the backend\'s role only where the backend itself runs. A pass proves the ' +
      'buckets and their settings, but not the role\'s permissions. To test the role, run verify where the backend runs, ' +
      'with its role (e.g. through ECS Exec in a task that has the backend\'s task role), or with the role\'s own ' +
      'credentials (assume the role and export its temporary keys).',
  };
}

function describeSettings(settings: BackendS3Settings, credentials: string): string {
  const parts = [
    `at ${settings.endpoint ?? 'AWS S3'}`,
    `region ${settings.region}`,
    settings.forcePathStyle ? 'path-style' : 'virtual-hosted',
    settings.sse ? 'SSE header on' : 'SSE header off',
    settings.checksums ? 'CRC32 checksums on' : 'CRC32 checksums off',
    credentials,
  ];
  return `(${parts.join(', ')})`;
}

function formatStep(target: ProbeTarget, outcome: StepOutcome): string {
  const head = `  [${target.bucket}] ${PROBE_STEPS[outcome.step].title}: ${outcome.status === 'failed' ? 'FAILED' : outcome.status}`;
  const detail = outcome.diagnosis ? ` - ${outcome.diagnosis.message}` : outcome.detail ? ` - ${outcome.detail}` : '';
  return head + detail;
}

/** "2 unreadable lines, 1 variable problem": the error findings, counted by kind. */
function describeErrors(findings: readonly EnvFinding[]): string {
  const errors = findings.filter((f) => f.level === 'error');
  const lines = errors.filter((f) => f.line !== undefined).length;
  const variables = errors.length - lines;
  return [
    lines > 0 ? `${lines} unreadable line${lines === 1 ? '' : 's'} in the file` : '',
    variables > 0 ? `${variables} variable problem${variables === 1 ? '' : 's'}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** The human-readable summary printed on stdout. */
export function formatSummary(report: VerifyReport): string {
  const lines: string[] = [];
  const width = Math.max(...report.variables.map((v) => v.variable.length));
  // Five buckets on one provider usually fail the same way: say it once.
  const said = new Set<string>();
  const once = (text: string): string => {
    if (said.has(text)) {
      return '    (same as above)';
    }
    said.add(text);
    return text;
  };
  for (const { variable, bucket, result } of report.variables) {
    const status = result === undefined ? (bucket ? 'not probed' : 'NOT SET') : result.status === 'failed' ? 'FAILED' : result.status;
    lines.push(`${variable.padEnd(width)}  ${(bucket || '-').padEnd(24)}  ${status}`);
    for (const step of result?.steps ?? []) {
      if (step.status === 'failed' && step.diagnosis) {
        lines.push(
          once(`    ${PROBE_STEPS[step.step].title} failed: ${step.diagnosis.message}\n    setting to change: ${step.diagnosis.setting}`),
        );
      } else if (step.status === 'warning') {
        lines.push(once(`    warning (${PROBE_STEPS[step.step].title}): ${step.detail ?? ''}`));
      }
    }
    for (const leftover of result?.leftovers ?? []) {
      lines.push(`    left behind: ${leftover}`);
    }
  }
  for (const finding of report.findings.filter((f) => f.level === 'error')) {
    lines.push(`- ${finding.message}`);
  }
  for (const finding of report.findings.filter((f) => f.level === 'warning')) {
    lines.push(`warning: ${finding.message}`);
  }
  if (report.skipped) {
    lines.push(`Buckets not probed: ${report.skipped}.`);
  }
  const failedBuckets = new Set(report.variables.filter((v) => v.result?.status === 'failed').map((v) => v.bucket));
  const errors = report.findings.filter((f) => f.level === 'error').length;
  if (report.ok && report.skipped !== undefined) {
    // Only --file-only skips the probes of variables without errors: nothing was proven about the buckets.
    const why = report.skipped === FILE_ONLY_SKIPPED ? '--file-only' : report.skipped;
    const warned = report.findings.some((f) => f.level === 'warning');
    lines.push(`Result: variables OK${warned ? ' with warnings (read them above)' : ''}; buckets not probed (${why}).`);
  } else if (report.ok) {
    const warned = report.variables.some((v) => v.result?.status === 'warning') || report.findings.some((f) => f.level === 'warning');
    lines.push(
      warned
        ? 'Result: OK with warnings: the backend can use this storage; read the warnings above.'
        : 'Result: OK: the backend can use this storage.',
    );
  } else {
    const why = [
      errors > 0 ? describeErrors(report.findings) : '',
      failedBuckets.size > 0 ? `${failedBuckets.size} bucket${failedBuckets.size === 1 ? '' : 's'} failed` : '',
    ].filter(Boolean);
    lines.push(`Result: FAILED (${why.join(', ') || 'see above'}).`);
  }
  return `${lines.join('\n')}\n`;
}
