/**
 * The app's context keys for the backend task definition (`ecs=true` and its settings).
 */
import { RemovalPolicy, aws_ecs as ecs } from 'aws-cdk-lib';
import type { ConvexBackendOptions } from '../ecs/convex-backend';
import { ConvexDatabaseEngine, originProblems } from '../ecs/convex-backend-task-definition';
import { DEFAULT_BACKEND_CPU, DEFAULT_BACKEND_MEMORY_MIB, FARGATE_CPU_VALUES, fargateMemoryOptions } from '../ecs/fargate-sizes';
import { DEFAULT_CONVEX_IMAGE_TAG, imageVersionProblems } from '../ecs/images';
import { databaseSecretProblems } from '../ecs/secret-arn';
import type { ContextKeyDoc } from './app-config';
import { ContextReader } from './context';
import { readDatabaseOptions } from './database-context';

/** The backend's context keys, with defaults; the README documents each one. */
export const BACKEND_CONTEXT_KEYS: readonly ContextKeyDoc[] = [
  { key: 'ecs', default: 'false', description: '`true` adds the Fargate task definition of the Convex backend (and, without `databaseUrlSecretArn` or `ephemeralData`, a VPC with an encrypted EFS volume for its SQLite data). See "Running the backend on ECS Fargate" in the README.' },
  { key: 'cloudOrigin', default: '(http://127.0.0.1:3210, with a warning)', description: '`CONVEX_CLOUD_ORIGIN`: public URL of the backend API (port 3210), e.g. `https://api.convex.example.com`, no path. With `ecs=true`.' },
  { key: 'siteOrigin', default: '(http://127.0.0.1:3211, with a warning)', description: '`CONVEX_SITE_ORIGIN`: public URL of the HTTP actions (port 3211), e.g. `https://site.convex.example.com`, or `https://api.convex.example.com/http` on one domain (a path is allowed here, no trailing slash). Plain `http://` to a host that is not loopback warns. With `ecs=true`.' },
  { key: 'imageTag', default: DEFAULT_CONVEX_IMAGE_TAG, description: 'Version of `ghcr.io/get-convex/convex-backend` (and of the dashboard): a full 40-character commit SHA (upstream\'s tag of every release), a digest `sha256:<64 hex>`, or `latest` (with a warning); anything else, `v1.2` say, is rejected. With `ecs=true`.' },
  { key: 'databaseUrlSecretArn', default: '(none: SQLite on an EFS volume)', description: 'Complete ARN (ending in `-` and 6 random characters; `aws secretsmanager describe-secret --secret-id <name> --query ARN`) of a Secrets Manager secret whose value is the `POSTGRES_URL`/`MYSQL_URL` (no database name). With `ecs=true`.' },
  { key: 'databaseUrlSecretKeyArn', default: '(none: the secret uses aws/secretsmanager)', description: 'ARN of the customer-managed KMS key that encrypts the `databaseUrlSecretArn` secret, if any: the execution role gets `kms:Decrypt` on it (required for such a secret).' },
  { key: 'databaseEngine', default: 'postgres', description: '`postgres` or `mysql`: the database behind `databaseUrlSecretArn`.' },
  { key: 'ephemeralData', default: 'false', description: '`true` runs SQLite on the task\'s ephemeral storage: every restart loses all data (throw-away deployments only; gives a warning). With `ecs=true`.' },
  { key: 'dashboard', default: 'false', description: '`true` adds the dashboard (port 6791) on the backend\'s version: with `service=true` a service of its own whose role has no AWS access, routed from `dashboardAllowedCidrs`; with `ecs=true` alone a container in the backend\'s task (sharing its role; a warning).' },
  { key: 'disableBeacon', default: 'false', description: '`true` sets `DISABLE_BEACON` (no anonymous usage beacon to Convex). `false` leaves the variable out: the backend turns it on for any value. With `ecs=true`.' },
  { key: 'redactLogsToClient', default: 'false', description: '`true` sets `REDACT_LOGS_TO_CLIENT` (function logs and errors are not sent to clients). `false` leaves the variable out: the backend turns it on for any value. With `ecs=true`.' },
  { key: 'metricsEndpoint', default: 'false', description: '`true` opens the backend\'s Prometheus `/metrics` on port 3210, which the image serves **without authentication** (`DISABLE_METRICS_ENDPOINT=false`); by default it is closed (`DISABLE_METRICS_ENDPOINT=true`). With `ecs=true`.' },
  { key: 'cpu', default: String(DEFAULT_BACKEND_CPU), description: `Task CPU units (1024 = 1 vCPU): ${FARGATE_CPU_VALUES.join(', ')}. With \`ecs=true\`.` },
  { key: 'memory', default: String(DEFAULT_BACKEND_MEMORY_MIB), description: 'Task memory in MiB; must fit `cpu` on Fargate. With `ecs=true`.' },
  { key: 'instanceSecretReaderArns', default: '(any principal whose IAM policy allows it)', description: 'Comma-separated ARNs of the roles (or users) besides the task\'s execution role that may read `INSTANCE_SECRET`, e.g. the operators\' role that runs `convex-storage admin-key`: the secret\'s resource policy then denies every other principal, administrators included. With `ecs=true`.' },
  { key: 'cpuArchitecture', default: 'x86_64', description: '`x86_64` or `arm64` (Graviton). With `ecs=true`.' },
];

/**
 * Reads the backend's settings; undefined unless `ecs=true`. Problems go to `context`. The
 * backend's resources follow the storage's `removalPolicy` (context `removalPolicy`).
 */
export function readBackendOptions(context: ContextReader, storage: { readonly removalPolicy?: RemovalPolicy } = {}, stage = 'dev', service = false): ConvexBackendOptions | undefined {
  // service=true runs this task definition, so it implies ecs=true.
  const enabled = (context.boolean('ecs') ?? false) || service;
  const cloudOrigin = readOrigin(context, 'cloudOrigin');
  const siteOrigin = readOrigin(context, 'siteOrigin');
  const imageTag = context.string('imageTag');
  for (const problem of imageTag === undefined ? [] : imageVersionProblems('imageTag', imageTag)) {
    context.addProblem(`imageTag: ${problem}`);
  }
  // The ARNs and the rule that key and engine need the secret are checked by ConvexBackend's own
  // check, so the app and the construct report them in the same words.
  const databaseUrlSecretArn = rawString(context, 'databaseUrlSecretArn');
  const databaseUrlSecretKeyArn = rawString(context, 'databaseUrlSecretKeyArn');
  const engine = context.oneOf('databaseEngine', ['postgres', 'mysql'] as const);
  const databaseProblems = databaseSecretProblems({ databaseUrlSecretArn, databaseUrlSecretKeyArn, databaseEngine: engine });
  for (const problem of databaseProblems) context.addProblem(problem);
  const ephemeralData = context.boolean('ephemeralData');
  const dashboard = context.boolean('dashboard');
  const disableBeacon = context.boolean('disableBeacon');
  const redactLogsToClient = context.boolean('redactLogsToClient');
  const metricsEndpoint = context.boolean('metricsEndpoint');
  const cpu = context.integer('cpu');
  const memory = context.integer('memory');
  const architecture = context.oneOf('cpuArchitecture', ['x86_64', 'arm64'] as const);
  const instanceSecretReaderArns = context.stringList('instanceSecretReaderArns', 'IAM role or user ARNs');
  for (const arn of instanceSecretReaderArns ?? []) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/.test(arn)) {
      context.addProblem(`instanceSecretReaderArns: '${arn}' is not valid; expected the ARN of an IAM role or user (arn:aws:iam::<account>:role/<name>).`);
    }
  }

  if (cpu !== undefined && !FARGATE_CPU_VALUES.includes(cpu)) {
    context.addProblem(`cpu: '${cpu}' is not valid; accepted values are ${FARGATE_CPU_VALUES.map((c) => `'${c}'`).join(', ')}.`);
  } else if (memory !== undefined && !fargateMemoryOptions(cpu ?? DEFAULT_BACKEND_CPU).includes(memory)) {
    context.addProblem(`memory: '${memory}' is not valid with cpu ${cpu ?? DEFAULT_BACKEND_CPU}; Fargate accepts ${fargateMemoryOptions(cpu ?? DEFAULT_BACKEND_CPU).join(', ')} MiB.`);
  }
  if (ephemeralData && databaseUrlSecretArn !== undefined) {
    context.addProblem('ephemeralData: the data lives in the database given by databaseUrlSecretArn; drop ephemeralData.');
  }
  const postgres = readDatabaseOptions(context, {
    stage,
    backend: enabled,
    ownDatabase: databaseUrlSecretArn !== undefined,
    ephemeralData: ephemeralData === true,
  });
  if (!enabled) {
    const stray = BACKEND_CONTEXT_KEYS.map((k) => k.key).filter((key) => key !== 'ecs' && context.raw(key) !== undefined);
    for (const key of stray) {
      context.addProblem(`${key}: only applies with ecs=true or service=true; add -c ecs=true (the task definition) or -c service=true (the running service), or drop ${key}.`);
    }
    return undefined;
  }
  return {
    cloudOrigin,
    siteOrigin,
    imageTag,
    // Valid here: an invalid ARN is a problem, and the app stops before it builds anything.
    databaseUrlSecretArn: databaseProblems.length === 0 ? databaseUrlSecretArn : undefined,
    databaseUrlSecretKeyArn: databaseProblems.length === 0 ? databaseUrlSecretKeyArn : undefined,
    databaseEngine: engine === 'mysql' ? ConvexDatabaseEngine.MYSQL : engine === 'postgres' ? ConvexDatabaseEngine.POSTGRES : undefined,
    postgres,
    ephemeralData,
    dashboard,
    disableBeacon,
    redactLogsToClient,
    metricsEndpoint,
    cpu,
    memoryLimitMiB: memory,
    instanceSecretReaderArns,
    cpuArchitecture: architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : architecture === 'x86_64' ? ecs.CpuArchitecture.X86_64 : undefined,
    // Kept or deleted with the storage: a throw-away stack (removalPolicy=destroy) deletes the
    // data volume, the instance secret and the log groups too.
    removalPolicy: storage.removalPolicy,
  };
}

function readOrigin(context: ContextReader, key: 'cloudOrigin' | 'siteOrigin'): string | undefined {
  const value = context.string(key);
  if (value === undefined) return undefined;
  const problems = originProblems(key, value, { allowPath: key === 'siteOrigin' });
  for (const problem of problems) {
    context.addProblem(`${key}: ${problem}`);
  }
  return problems.length === 0 ? value : undefined;
}

/** A context value as text (cdk.json may hold any JSON type), for checks that name the value. */
function rawString(context: ContextReader, key: string): string | undefined {
  const value = context.raw(key);
  return value === undefined ? undefined : String(value);
}
