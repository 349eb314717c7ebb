/**
 * The checks and synth warnings of `ConvexBackendTaskDefinition`'s props: every problem is
 * collected and reported in one error.
 */
import { Annotations, Duration, RemovalPolicy, Token, aws_kms as kms } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { INSTANCE_NAME, REQUIRED_S3_VARS } from '../backend-env';
import { instanceNameProblems } from '../instance-name';
import { BACKEND_API_PORT, BACKEND_SITE_PORT } from './backend-ports';
import { ConvexBackendTaskDefinitionProps } from './convex-backend-task-definition-props';
import { fargateSizeProblems } from './fargate-sizes';
import { DEFAULT_CONVEX_IMAGE_TAG, LATEST_TAG, imageVersionProblems } from './images';
import { EntrypointStep } from './entrypoint/backend-entrypoint';
import { databaseCaBundleProblems } from './entrypoint/database-ca-bundle';
import { describeRemovalPolicy, isKept, retainedWithDeletedKeyProblem } from './key-retention';
import { LOCAL_CLOUD_ORIGIN, LOCAL_SITE_ORIGIN, originProblems, plainHttpOriginRisk } from './origins';

/** Fargate caps the stop timeout at 120 seconds. */
export const MAX_FARGATE_STOP_TIMEOUT_SECONDS = 120;
/** ECS caps a health check start period at 300 seconds. */
const MAX_HEALTH_CHECK_START_PERIOD_SECONDS = 300;

/** The settings of the task definition with their defaults applied. */
export interface ResolvedTaskDefinitionSettings {
  readonly imageTag: string;
  /**
   * The dashboard's image version.
   *
   * @default - none: the backend's is a digest, which names no dashboard image
   */
  readonly dashboardImageTag?: string;
  readonly instanceName: string;
  readonly cloudOrigin: string;
  readonly siteOrigin: string;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly stopTimeout: Duration;
  readonly startPeriod: Duration;
  /** The storage's environment without credentials. */
  readonly storageEnvironment: Readonly<Record<string, string>>;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Checks the props of the task definition at `scope`, with the defaults applied: throws once,
 * listing every problem. Unresolved tokens are not checked.
 */
export function checkTaskDefinitionProps(scope: IConstruct, props: ConvexBackendTaskDefinitionProps, resolved: ResolvedTaskDefinitionSettings): void {
  const problems: string[] = [];
  const known = (value: unknown) => !Token.isUnresolved(value);

  if (known(resolved.imageTag)) problems.push(...imageVersionProblems('imageTag', resolved.imageTag));
  if (props.dashboardImageTag !== undefined && known(props.dashboardImageTag)) {
    problems.push(...imageVersionProblems('dashboardImageTag', props.dashboardImageTag));
  }
  if (props.dashboard && resolved.dashboardImageTag === undefined) {
    problems.push(`dashboard is on and imageTag is the digest '${resolved.imageTag}', which names a backend image only: set dashboardImageTag to the dashboard's tag or digest of the same version.`);
  }
  if (!props.dashboard && props.dashboardImageTag !== undefined) {
    problems.push('dashboardImageTag is set but dashboard is off: set dashboard to true or drop dashboardImageTag.');
  }

  if (known(resolved.instanceName)) {
    problems.push(...instanceNameProblems(resolved.instanceName).map((p) => `instanceName '${resolved.instanceName}' ${p}.`));
  }
  problems.push(...instanceNameConflicts(props, resolved.storageEnvironment));

  for (const [prop, value] of [['cloudOrigin', props.cloudOrigin], ['siteOrigin', props.siteOrigin]] as const) {
    if (value !== undefined && known(value)) problems.push(...originProblems(prop, value, { allowPath: prop === 'siteOrigin' }));
  }

  for (const variable of REQUIRED_S3_VARS) {
    const value = resolved.storageEnvironment[variable];
    if (value === undefined || (known(value) && value.length === 0)) {
      problems.push(`the storage's backendEnvironment has no ${variable}: the image only switches on S3 storage when AWS_REGION and all five S3_STORAGE_*_BUCKET variables are set, else it silently keeps files on local disk.`);
    }
  }

  if (props.database && 'credentialsSecret' in props.database && props.doNotRequireSsl) {
    problems.push('doNotRequireSsl is set but the database is a connection whose TLS is verified with its CA certificates (a ConvexPostgres requires TLS: rds.force_ssl=1). Drop doNotRequireSsl.');
  }
  if (props.database) {
    if (props.ephemeralData) {
      problems.push('ephemeralData is set but a database is given: the data lives in the database. Drop ephemeralData.');
    }
    if (props.dataVolumeSubnets) {
      problems.push('dataVolumeSubnets is set but a database is given, so there is no data volume. Drop dataVolumeSubnets.');
    }
  } else if (props.vpc && props.ephemeralData) {
    problems.push('ephemeralData is set together with vpc: with a VPC the construct mounts a persistent EFS volume at /convex/data. Drop ephemeralData (recommended) or vpc.');
  } else if (!props.vpc && !props.ephemeralData) {
    problems.push('without a database the backend keeps SQLite under /convex/data, and on Fargate that is lost on every task restart or deployment. Give vpc (a persistent, encrypted EFS volume is mounted there), or database (a Postgres or MySQL URL secret), or set ephemeralData to true for a throw-away deployment.');
  }
  if (!props.vpc && props.dataVolumeSubnets) {
    problems.push('dataVolumeSubnets needs vpc.');
  }

  if (known(resolved.cpu) && known(resolved.memoryLimitMiB)) {
    problems.push(...fargateSizeProblems(resolved.cpu, resolved.memoryLimitMiB));
  }
  const stopSeconds = resolved.stopTimeout.toSeconds({ integral: false });
  if (known(stopSeconds) && (stopSeconds < 2 || stopSeconds > MAX_FARGATE_STOP_TIMEOUT_SECONDS)) {
    problems.push(`stopTimeout is ${stopSeconds} seconds; Fargate accepts 2 to ${MAX_FARGATE_STOP_TIMEOUT_SECONDS}.`);
  }
  const startSeconds = resolved.startPeriod.toSeconds({ integral: false });
  if (known(startSeconds) && (startSeconds < 0 || startSeconds > MAX_HEALTH_CHECK_START_PERIOD_SECONDS || !Number.isInteger(startSeconds))) {
    problems.push(`healthCheckStartPeriod is ${startSeconds} seconds; ECS accepts whole seconds from 0 to ${MAX_HEALTH_CHECK_START_PERIOD_SECONDS}.`);
  }
  if (props.logGroup && (props.logRetention !== undefined || props.logEncryptionKey !== undefined)) {
    problems.push('logRetention and logEncryptionKey apply to the log group this construct creates: set them on your logGroup instead, or drop logGroup.');
  }
  problems.push(...deletedKeyProblems(props, resolved.removalPolicy));
  if (props.databaseCaBundle !== undefined && known(props.databaseCaBundle)) {
    problems.push(...databaseCaBundleProblems('databaseCaBundle', props.databaseCaBundle));
  }
  (props.startupSteps ?? []).forEach((step, index) => problems.push(...startupStepProblems(step).map((p) => `startupSteps[${index}]: ${p}`)));

  if (problems.length > 0) {
    throw new Error(`Invalid ConvexBackendTaskDefinition properties at ${scope.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The synth warnings about the props of the task definition at `scope`. */
export function warnAboutTaskDefinitionProps(scope: IConstruct, props: ConvexBackendTaskDefinitionProps, resolved: ResolvedTaskDefinitionSettings): void {
  const annotations = Annotations.of(scope);
  if (resolved.imageTag === LATEST_TAG || (props.dashboard && resolved.dashboardImageTag === LATEST_TAG)) {
    annotations.addWarningV2('cdk-convex-storage:image-latest', `The image tag '${LATEST_TAG}' moves: each task start may run a different backend version, an older one may not run keyless with a task role, and the backend cannot downgrade its data. Pin a 40-character commit tag (the default is ${DEFAULT_CONVEX_IMAGE_TAG}) or a digest.`);
  }
  if (!props.database && !props.vpc && props.ephemeralData) {
    annotations.addWarningV2('cdk-convex-storage:ephemeral-data', 'ephemeralData: the backend keeps SQLite on the task\'s ephemeral storage, and every task restart, deployment or scaling event DELETES ALL DATA (documents, and the INSTANCE_NAME-to-S3-prefix record, so S3 objects are orphaned). Use only for throw-away deployments; give vpc or database for anything else.');
  }
  if (props.database && props.vpc) {
    annotations.addWarningV2('cdk-convex-storage:vpc-unused', 'vpc is only used for the SQLite data volume, and a database is given: no volume is created.');
  }
  for (const [prop, value] of [['cloudOrigin', props.cloudOrigin], ['siteOrigin', props.siteOrigin]] as const) {
    const risk = value === undefined || Token.isUnresolved(value) ? undefined : plainHttpOriginRisk(prop, value);
    if (risk) annotations.addWarningV2(`cdk-convex-storage:plain-http-${prop === 'cloudOrigin' ? 'cloud' : 'site'}-origin`, risk);
  }
  if (props.cloudOrigin === undefined || props.siteOrigin === undefined) {
    annotations.addWarningV2('cdk-convex-storage:local-origins', `cloudOrigin/siteOrigin not set: the backend uses ${LOCAL_CLOUD_ORIGIN} and ${LOCAL_SITE_ORIGIN}, which only work inside the task. File URLs and clients outside need the public URLs of ports ${BACKEND_API_PORT} and ${BACKEND_SITE_PORT}.`);
  }
}

/** Problems with a start-up step of the entrypoint wrapper. */
export function startupStepProblems(step: EntrypointStep): string[] {
  const problems: string[] = [];
  if (Token.isUnresolved(step.description) || step.description.trim().length === 0) {
    problems.push('the description must be plain, non-empty text (it is logged before the step runs).');
  }
  if (step.script.trim().length === 0) problems.push('the script is empty.');
  return problems;
}

/**
 * The log group's key: `logEncryptionKey`, else the storage's key when this app writes its policy
 * (an imported key's policy cannot be changed here, and the log group would fail to create).
 */
export function logGroupKey(props: ConvexBackendTaskDefinitionProps): kms.IKey | undefined {
  const storageKey = props.storage.encryptionKey;
  return props.logEncryptionKey ?? (storageKey instanceof kms.Key ? storageKey : undefined);
}

/**
 * `INSTANCE_NAME` has one value: the prop, the storage's `instanceName` and `INSTANCE_NAME` in
 * the storage's environment must agree wherever they are set. Tokens are not compared.
 */
function instanceNameConflicts(props: ConvexBackendTaskDefinitionProps, storageEnvironment: Readonly<Record<string, string>>): string[] {
  const known = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);
  const storageName = props.storage.instanceName;
  const environmentName = storageEnvironment[INSTANCE_NAME];
  const problems: string[] = [];
  if (known(props.instanceName) && known(storageName) && props.instanceName !== storageName) {
    problems.push(`instanceName '${props.instanceName}' differs from the storage's instanceName '${storageName}': the storage's access policy only covers keys under '${storageName}-', so the backend could not read or write its objects. Use the same name (and never change it).`);
  }
  const expected = known(storageName) ? { name: storageName, source: 'the storage\'s instanceName' } : known(props.instanceName) ? { name: props.instanceName, source: 'instanceName' } : undefined;
  if (known(environmentName) && expected && environmentName !== expected.name) {
    problems.push(`the storage's backendEnvironment sets ${INSTANCE_NAME} '${environmentName}', which differs from ${expected.source} '${expected.name}': the backend has one INSTANCE_NAME, and it seeds the S3 key prefix. Make them the same (and never change it).`);
  }
  return problems;
}

/** Kept resources created here whose KMS key the stack would delete (see `removalPolicy`). */
function deletedKeyProblems(props: ConvexBackendTaskDefinitionProps, removalPolicy: RemovalPolicy): string[] {
  if (!isKept(removalPolicy)) return [];
  const storageKey = props.storage.encryptionKey;
  const encrypted: Array<[string, kms.IKey | undefined]> = [];
  if (!props.database && props.vpc) encrypted.push(['the data volume (the SQLite database)', storageKey]);
  if (!props.instanceSecret) encrypted.push(['the instance secret', storageKey]);
  if (!props.logGroup) encrypted.push(['the log group', logGroupKey(props)]);
  const byKey = new Map<kms.IKey, string[]>();
  for (const [what, key] of encrypted) {
    if (key) byKey.set(key, [...(byKey.get(key) ?? []), what]);
  }
  const setting = describeRemovalPolicy(props.removalPolicy);
  return [...byKey].flatMap(([key, what]) => {
    const problem = retainedWithDeletedKeyProblem(joinWords(what), setting, key);
    return problem ? [problem] : [];
  });
}

function joinWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
