/**
 * Static checks of a backend environment: what the backend will silently misread before any
 * request is made. Shared by `verify` (reports) and `env` (refuses to write).
 */
import {
  AWS_ACCESS_KEY_ID,
  AWS_DEFAULT_REGION,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN,
  INSTANCE_NAME,
  PRESENCE_FLAG_VARS,
  REQUIRED_S3_VARS,
  S3_ENDPOINT_URL,
  STRICT_BOOLEAN_VARS,
  isStrictBooleanValue,
} from '../backend-env';
import type { DotEnvProblem } from '../dotenv';
import { instanceNameProblems } from '../instance-name';
import { STORAGE_KINDS } from '../storage-kinds';

/** One problem (or note) about one variable. */
export interface EnvFinding {
  /** `error` makes `verify` fail and `env` refuse; `warning` and `info` are reported only. */
  readonly level: 'error' | 'warning' | 'info';
  /** The variable to change (for a line of the file that names none: `line <n>`). */
  readonly variable: string;
  readonly message: string;
  /**
   * The line of the file the finding is about.
   *
   * @default - none: the finding is about a value, wherever it was set
   */
  readonly line?: number;
}

/** Findings for the lines of a file that its loader would not read as written. */
export function fileProblemFindings(problems: readonly DotEnvProblem[]): EnvFinding[] {
  return problems.map((problem) => ({
    level: problem.level,
    variable: problem.key ?? `line ${problem.line}`,
    message: problem.message,
    line: problem.line,
  }));
}

/** Values as the backend sees them: a missing variable and an empty one are the same. */
export type EnvValues = ReadonlyMap<string, string>;

/** A variable's value, with empty strings read as absent (the entrypoint's `-n` test). */
export function envValue(env: EnvValues, key: string): string | undefined {
  const value = env.get(key);
  return value === undefined || value === '' ? undefined : value;
}

/** The required variables (AWS_REGION and the five buckets) that are missing or empty. */
export function missingRequired(env: EnvValues): string[] {
  return REQUIRED_S3_VARS.filter((key) => envValue(env, key) === undefined);
}

/**
 * Checks a backend environment the way the backend's entrypoint and parsers will read it.
 * Returns findings in a stable order; an empty list means nothing to report.
 */
export function checkBackendEnv(env: EnvValues): EnvFinding[] {
  const findings: EnvFinding[] = [];
  const missing = missingRequired(env);
  for (const key of missing) {
    findings.push({
      level: 'error',
      variable: key,
      message:
        `${key} is not set. The backend switches to S3 only when ${REQUIRED_S3_VARS.join(', ')} ` +
        'are all set; otherwise it silently keeps data on local disk.',
    });
  }
  if (missing.includes(AWS_REGION) && envValue(env, AWS_DEFAULT_REGION) !== undefined) {
    findings.push({
      level: 'info',
      variable: AWS_REGION,
      message: `${AWS_DEFAULT_REGION} is set, but the backend reads only ${AWS_REGION}: set ${AWS_REGION} instead.`,
    });
  }

  const instanceName = envValue(env, INSTANCE_NAME);
  if (instanceName !== undefined) {
    const problems = instanceNameProblems(instanceName);
    if (problems.length > 0) {
      findings.push({
        level: 'warning',
        variable: INSTANCE_NAME,
        message:
          `${INSTANCE_NAME}='${instanceName}' ${problems.join('; ')}. The name must never change once the backend ` +
          'has started with it, so choose a valid one only for a new deployment.',
      });
    }
  }

  for (const key of Object.values(STRICT_BOOLEAN_VARS)) {
    const value = env.get(key);
    if (value !== undefined && !isStrictBooleanValue(value)) {
      findings.push({
        level: 'error',
        variable: key,
        message:
          `${key}='${value}' is read as false: the backend accepts exactly true or false ` +
          `(lowercase). Write ${key}=${/^(1|yes|on|y|t|true)$/i.test(value) ? 'true' : 'false'} ` +
          'or remove the line.',
      });
    }
  }

  for (const key of Object.values(PRESENCE_FLAG_VARS)) {
    const value = env.get(key);
    if (value !== undefined && value !== '' && /^(false|0|no|off|n|f)$/i.test(value)) {
      findings.push({
        level: 'error',
        variable: key,
        message:
          `${key}='${value}' switches ${key} ON: the backend turns it on for any non-empty value. ` +
          `To leave it off, remove the ${key} line.`,
      });
    }
  }

  const endpoint = envValue(env, S3_ENDPOINT_URL);
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || !/^https?:$/.test(url.protocol)) {
      findings.push({
        level: 'error',
        variable: S3_ENDPOINT_URL,
        message: `${S3_ENDPOINT_URL}='${endpoint}' is not an http(s) URL, e.g. https://<account-id>.r2.cloudflarestorage.com`,
      });
    } else if (url.protocol === 'http:') {
      // npm-packages/node-executor/src/build_deps.ts uploads external packages only to file: or
      // https: URLs (the presigned URLs are built on this endpoint).
      findings.push({
        level: 'warning',
        variable: S3_ENDPOINT_URL,
        message:
          `${S3_ENDPOINT_URL}='${endpoint}' is plain http://: Node actions that use externalPackages cannot deploy, because the ` +
          'backend\'s Node executor uploads their packages only to https: URLs. Everything else works. Serve the store over https:// ' +
          '(e.g. MinIO with a certificate, or a TLS proxy in front of it) if you use externalPackages.',
      });
    }
  }

  const keyId = envValue(env, AWS_ACCESS_KEY_ID);
  const secret = envValue(env, AWS_SECRET_ACCESS_KEY);
  if ((keyId === undefined) !== (secret === undefined)) {
    const absent = keyId === undefined ? AWS_ACCESS_KEY_ID : AWS_SECRET_ACCESS_KEY;
    findings.push({
      level: 'error',
      variable: absent,
      message: `${absent} is missing while its pair is set: set both access key variables, or neither when the backend uses an IAM role.`,
    });
  }
  if (envValue(env, AWS_SESSION_TOKEN) !== undefined && keyId !== undefined) {
    findings.push({
      level: 'warning',
      variable: AWS_SESSION_TOKEN,
      message: `${AWS_SESSION_TOKEN} is set: temporary credentials expire, and the backend then fails. Use a long-lived key or a role.`,
    });
  }

  const buckets = STORAGE_KINDS.map((kind) => envValue(env, kind.envVar)).filter((b): b is string => b !== undefined);
  if (buckets.length === STORAGE_KINDS.length && new Set(buckets).size === 1) {
    findings.push({
      level: 'info',
      variable: STORAGE_KINDS[0].envVar,
      message:
        'All five bucket variables name one bucket. That works (keys never collide), but kinds cannot get ' +
        'their own lifecycle rules, access scope or replication.',
    });
  }
  return findings;
}
