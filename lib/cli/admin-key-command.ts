/**
 * `convex-storage admin-key`: prints an admin key for a deployment, derived locally from its
 * `INSTANCE_NAME` and `INSTANCE_SECRET` exactly as the backend's key broker issues one (no shell
 * in the container, no ECS Exec). stdout carries the key and nothing else, so
 * `CONVEX_SELF_HOSTED_ADMIN_KEY=$(convex-storage admin-key ...)` works; all else goes to stderr.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AdminKeyError, adminKeyInstanceNameProblem, issueAdminKey, parseInstanceSecret, verifyAdminKey } from '../admin-key/admin-key';
import { AWS_REGION, BACKEND_OUTPUTS, INSTANCE_NAME, INSTANCE_SECRET, outputKeyFor } from '../backend-env';
import { parseDotEnv } from '../dotenv';
import { DEFAULT_INSTANCE_NAME } from '../instance-name';
import { booleanFlag, parseFlags, stringFlag, type Flags } from './args';
import { CliError, EXIT, UsageError, type CliIo } from './io';

/** The `admin-key` command's options. */
export const ADMIN_KEY_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  'instance-name': { type: 'string' },
  'instance-secret-file': { type: 'string' },
  file: { type: 'string' },
  'env-file': { type: 'string' },
  'process-env': { type: 'boolean' },
  'read-only': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A deployment's name and secret, and where they came from (for messages). */
interface Deployment {
  readonly instanceName: string;
  readonly instanceSecret: Uint8Array;
  readonly source: string;
}

/** Runs `admin-key` with already-split arguments; returns the exit code. */
export async function runAdminKey(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags('admin-key', argv, ADMIN_KEY_OPTIONS);
  const deployment = await loadDeployment(flags, io);
  const readOnly = booleanFlag(flags, 'read-only');
  let key: string;
  try {
    key = issueAdminKey({ instanceName: deployment.instanceName, instanceSecret: deployment.instanceSecret, readOnly });
    // The same checks the backend makes, so a key that leaves here is one it accepts.
    verifyAdminKey(key, deployment);
  } catch (err) {
    throw err instanceof AdminKeyError ? new CliError(`${deployment.source}: ${err.message}`) : err;
  }
  io.stdout(`${key}\n`);
  io.stderr(
    `${readOnly ? 'Read-only admin key' : 'Admin key'} for ${INSTANCE_NAME} '${deployment.instanceName}' from ${deployment.source}. ` +
      `Treat it like a password: it never expires, and only a new ${INSTANCE_SECRET} revokes it.\n`,
  );
  return EXIT.ok;
}

/** Reads the name and secret from the one source the flags name. */
async function loadDeployment(flags: Flags, io: CliIo): Promise<Deployment> {
  const stack = stringFlag(flags, 'stack');
  const secretFile = stringFlag(flags, 'instance-secret-file');
  const file = stringFlag(flags, 'file');
  const envFile = stringFlag(flags, 'env-file');
  if (file !== undefined && envFile !== undefined && file !== envFile) {
    throw new UsageError(`--file and --env-file are the same option and name different files ('${file}', '${envFile}'): pass one.`);
  }
  const dotEnvFile = file ?? envFile;
  const processEnv = booleanFlag(flags, 'process-env');
  const sources = [
    stack !== undefined && '--stack',
    secretFile !== undefined && '--instance-secret-file',
    dotEnvFile !== undefined && '--env-file',
    processEnv && '--process-env',
  ].filter((s): s is string => typeof s === 'string');
  if (sources.length === 0) {
    throw new UsageError(
      'Say where the instance secret comes from: --stack NAME (a deployed stack with the backend, e.g. ConvexStorage-prod), ' +
        '--instance-name NAME --instance-secret-file PATH, --env-file PATH (INSTANCE_NAME and INSTANCE_SECRET in a .env file), ' +
        'or --process-env. See: convex-storage admin-key --help',
    );
  }
  if (sources.length > 1) {
    throw new UsageError(`${sources.join(' and ')} are different sources of the instance secret: pass one.`);
  }
  if (stack === undefined && stringFlag(flags, 'region') !== undefined) {
    throw new UsageError('--region applies to --stack only (the stack\'s region).');
  }
  const givenName = stringFlag(flags, 'instance-name');

  if (stack !== undefined) {
    return fromStack(stack, stringFlag(flags, 'region') ?? io.env[AWS_REGION], givenName);
  }
  if (secretFile !== undefined) {
    if (givenName === undefined) {
      throw new UsageError('--instance-secret-file holds only the secret: pass --instance-name NAME too (the deployment\'s INSTANCE_NAME).');
    }
    const path = resolve(io.cwd, secretFile);
    // A file written by hand or by `openssl rand -hex 32 > file` ends with a line break; the
    // secret itself never has whitespace.
    const text = readText(path, '--instance-secret-file').trim();
    return deployment(givenName, text, `--instance-secret-file ${path}`);
  }
  let values: ReadonlyMap<string, string>;
  let source: string;
  if (dotEnvFile !== undefined) {
    const path = resolve(io.cwd, dotEnvFile);
    values = parseDotEnv(readText(path, '--env-file'));
    source = path;
  } else {
    values = new Map(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined));
    source = 'the process environment';
  }
  const secret = values.get(INSTANCE_SECRET);
  if (secret === undefined || secret === '') {
    throw new CliError(`${source} has no ${INSTANCE_SECRET}. Set it to the deployment's secret, or use --stack NAME to read it from Secrets Manager.`);
  }
  const envName = values.get(INSTANCE_NAME) || undefined;
  if (givenName !== undefined && envName !== undefined && givenName !== envName) {
    throw nameMismatch(givenName, envName, source);
  }
  let name = givenName ?? envName;
  if (name === undefined) {
    name = DEFAULT_INSTANCE_NAME;
    io.stderr(`note: ${source} has no ${INSTANCE_NAME}; using the image's default '${DEFAULT_INSTANCE_NAME}' (pass --instance-name if the backend runs with another).\n`);
  }
  return deployment(name, secret, source);
}

/** Name and secret from the stack's outputs and Secrets Manager. */
async function fromStack(stack: string, region: string | undefined, givenName: string | undefined): Promise<Deployment> {
  // Loaded here so the file and environment sources start without the AWS SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { describeStackOutputs, readSecretString } = require('./stack-outputs') as typeof import('./stack-outputs');
  const outputs = await describeStackOutputs(stack, region);
  const secretArn = outputs[BACKEND_OUTPUTS.instanceSecretArn];
  if (!secretArn) {
    throw new CliError(
      `Stack '${stack}' has no ${BACKEND_OUTPUTS.instanceSecretArn} output: it does not run the backend's task definition ` +
        '(deploy it with -c ecs=true), or it is not the stack of this deployment. Check --stack and --region.',
    );
  }
  const stackName = outputs[BACKEND_OUTPUTS.instanceName] || outputs[outputKeyFor(INSTANCE_NAME)] || undefined;
  if (givenName !== undefined && stackName !== undefined && givenName !== stackName) {
    throw nameMismatch(givenName, stackName, `stack '${stack}'`);
  }
  const name = givenName ?? stackName;
  if (name === undefined) {
    throw new CliError(
      `Stack '${stack}' has no ${BACKEND_OUTPUTS.instanceName} output (deployed before this version): pass --instance-name NAME ` +
        '(the INSTANCE_NAME in the task definition), or deploy the stack again.',
    );
  }
  const secretString = await readSecretString(secretArn, region, 'the instance secret');
  const field = outputs[BACKEND_OUTPUTS.instanceSecretField];
  let secret = secretString;
  if (field && secretString !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(secretString);
    } catch {
      parsed = undefined;
    }
    const value = (parsed as Record<string, unknown> | undefined)?.[field];
    if (typeof value !== 'string') {
      throw new CliError(`Secret ${secretArn} does not hold JSON with a string field '${field}' (output ${BACKEND_OUTPUTS.instanceSecretField}).`);
    }
    secret = value;
  }
  if (secret === undefined || secret === '') {
    throw new CliError(`Secret ${secretArn} has no string value; it should hold the 64 hex characters of ${INSTANCE_SECRET}.`);
  }
  return deployment(name, secret, `stack '${stack}' (secret ${secretArn})`);
}

function deployment(instanceName: string, secret: string, source: string): Deployment {
  const problem = adminKeyInstanceNameProblem(instanceName);
  if (problem) throw new CliError(`${source}: ${problem}`);
  try {
    return { instanceName, instanceSecret: parseInstanceSecret(secret), source };
  } catch (err) {
    if (err instanceof AdminKeyError) throw new CliError(`${source}: ${err.message}`);
    throw err;
  }
}

function nameMismatch(given: string, found: string, source: string): CliError {
  return new CliError(
    `--instance-name '${given}' differs from ${INSTANCE_NAME} '${found}' in ${source}: the backend accepts only keys for its own ` +
      `${INSTANCE_NAME}. Drop --instance-name, or check that the source is this deployment's.`,
  );
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${flag}: no file at ${path}.` : `${flag}: cannot read ${path} (${code ?? String(err)}).`);
  }
}
