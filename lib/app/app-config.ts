import { RemovalPolicy } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ContextReader, ContextReaderOptions } from './context';
import { AccessSettings, BackendAccessMode, DEFAULT_TRUSTED_PRINCIPAL, accessSettingsProblems } from '../access/access-options';
import { sourceIpListProblems } from '../access/network-options';
import { DEFAULT_INSTANCE_NAME, instanceNameProblems } from '../instance-name';
import { ConvexStorageProps, StorageEncryption, StorageLayout, convexStoragePropsProblems } from '../storage/convex-storage';
import { BACKEND_CONTEXT_KEYS, readBackendOptions } from './backend-context';
import { DATABASE_CONTEXT_KEYS } from './database-context';
import { ConvexBackendOptions } from '../ecs/convex-backend';
import { STACK_CONTEXT_KEYS, StackSettings, readStackSettings } from './stack-context';
import type { ConvexServiceOptions } from '../stack/convex-storage-stack';
import { SERVICE_CONTEXT_KEYS, readServiceOptions } from './service-context';
import { AppBackupOptions, BACKUP_CONTEXT_KEYS, readBackupOptions } from './backup-context';

/** Everything the app builds, read from CDK context. */
export interface AppConfig {
  /** Deployment stage, part of the stack name. */
  readonly stage: string;
  /** Name of the stack: context `stackName`, else `ConvexStorage-<stage>`. */
  readonly stackName: string;
  /** Tags of the stack and its resources (context `tags`), besides the default `application` tag. */
  readonly tags?: Record<string, string>;
  /** Synth warnings the user acknowledged (context `acknowledgeWarnings`). */
  readonly acknowledgedWarnings: StackSettings['acknowledgedWarnings'];
  /** Settings of the storage construct. */
  readonly storage: ConvexStorageProps;
  /** How the backend holds its access policy, and the settings of that mode. */
  readonly access: AccessSettings;
  /** The backend's ECS task definition (context `ecs=true`), else undefined. */
  readonly backend?: ConvexBackendOptions;
  /** The running service (context `service=true`), else undefined; `backend` is then set too. */
  readonly service?: ConvexServiceOptions;
  /** Scheduled backups (context `backupSchedule`), else undefined. */
  readonly backups?: AppBackupOptions;
  /** CloudFormation termination protection of the stack (default: on for stage `prod`). */
  readonly terminationProtection: boolean;
}

/** One documented context key of the app. */
export interface ContextKeyDoc {
  readonly key: string;
  readonly default: string;
  readonly description: string;
}

/** Every context key the app reads, with its default; the README documents each one. */
export const CONTEXT_KEYS: readonly ContextKeyDoc[] = [
  { key: 'stage', default: 'dev', description: 'Deployment stage (lowercase letters, digits, hyphens); the stack is `ConvexStorage-<stage>` (unless `stackName` is set), so each stage has its own buckets.' },
  { key: 'bucketNamePrefix', default: '(generated names)', description: 'Bucket names become `<prefix>-exports`, `<prefix>-snapshot-imports`, `<prefix>-modules`, `<prefix>-files`, `<prefix>-search` (`<prefix>-storage` in the single layout).' },
  { key: 'encryption', default: 's3', description: '`s3` (SSE-S3) or `kms` (a customer-managed key with rotation, S3 Bucket Keys, and `AWS_S3_DISABLE_SSE=true` for the backend).' },
  { key: 'layout', default: 'separate', description: '`separate` (one bucket per kind) or `single` (one bucket for all five kinds).' },
  { key: 'exportsRetentionDays', default: '45', description: 'Days before snapshot exports expire: at least 44, the days the backend keeps an export listed and downloadable (expiry after 14 days, deletion 30 days later). Separate layout only.' },
  { key: 'importsRetentionDays', default: '30', description: 'Days before uploaded snapshot imports expire: at least 7, the days the backend may read an import. Separate layout only.' },
  { key: 'noncurrentVersionRetentionDays', default: '30', description: 'Days an overwritten or deleted object version stays recoverable.' },
  { key: 'objectLock', default: 'false', description: '`true`: S3 Object Lock (GOVERNANCE, default retention `objectLockRetentionDays`) on the files and exports buckets, so no credential without `s3:BypassGovernanceRetention` can destroy a version early. Set it on a stage\'s FIRST deploy only: CloudFormation cannot add object lock to an existing bucket and would replace it with an empty one. Separate layout and `removalPolicy=retain` only.' },
  { key: 'objectLockRetentionDays', default: '(noncurrentVersionRetentionDays)', description: 'Days each new version in an object-locked bucket is under GOVERNANCE retention. With `objectLock=true` only.' },
  { key: 'terminationProtection', default: '(`true` for stage `prod`, else `false`)', description: 'CloudFormation termination protection of the stack: `cdk destroy` and stack deletion fail until it is turned off.' },
  { key: 'removalPolicy', default: 'retain', description: '`retain` keeps the buckets when the stack is deleted; `destroy` deletes them if they are empty (the KMS key is always kept: a bucket that is not empty stays, and must stay readable).' },
  { key: 'access', default: 'role', description: '`role`: an IAM role (output `BackendRoleArn`) holds the backend\'s access policy, no keys exist; `user`: an IAM user in a group that holds it, with one access key whose secret is in Secrets Manager (outputs `AwsAccessKeyId`, `AwsSecretAccessKeySecretArn`), for a backend outside AWS.' },
  { key: 'trustedPrincipal', default: DEFAULT_TRUSTED_PRINCIPAL, description: 'Service principal that assumes the backend role (`<service>.amazonaws.com`, e.g. `ec2.amazonaws.com`). Role access only.' },
  { key: 'accessKeySerial', default: '1', description: 'Serial of the IAM user\'s active access key: a higher serial issues a new key and writes it to the secret. User access only; see "Rotating the access key without downtime" in the README.' },
  { key: 'previousAccessKeySerial', default: '(none)', description: 'Serial of the previous access key, kept working during a rotation until every backend uses the new one; drop it to delete that key. User access only.' },
  { key: 'backendVpcEndpointIds', default: '(none: with ecs=true, the VPC the app creates)', description: 'IDs of the S3 gateway endpoints (`vpce-...`, comma-separated) of your own VPC the backend runs in: the data buckets then deny the backend role every request that does not come through one of them. Role access only. See "Network restrictions" in the README.' },
  { key: 'backendSourceIps', default: '(any address)', description: 'Public CIDR blocks (comma-separated, e.g. `203.0.113.7/32`) the backend outside AWS sends its requests from: the IAM user\'s group then denies its storage requests from any other address, so `convex-storage verify` with its keys must run from one of them too. User access only.' },
  { key: 'instanceName', default: `(any; the backend defaults to ${DEFAULT_INSTANCE_NAME})`, description: 'The backend\'s `INSTANCE_NAME`: narrows the access policy to keys under `<instanceName>-<uuid>/*` and is added to the `.env` block. Lowercase letters, digits, hyphens, starting with a letter, at most 63 characters; never change it.' },
  ...STACK_CONTEXT_KEYS,
  ...BACKEND_CONTEXT_KEYS,
  ...DATABASE_CONTEXT_KEYS,
  ...SERVICE_CONTEXT_KEYS,
  ...BACKUP_CONTEXT_KEYS,
];

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;

/** Reads and validates the app's context; throws once, listing every bad value. */
export function readAppConfig(scope: IConstruct, options: ContextReaderOptions = {}): AppConfig {
  const context = new ContextReader(scope, options);
  const stage = context.string('stage', {
    pattern: STAGE_PATTERN,
    rule: 'expected 1 to 24 lowercase letters, digits or hyphens, starting with a letter (e.g. dev, staging, prod)',
  }) ?? 'dev';
  const encryption = context.oneOf('encryption', ['s3', 'kms'] as const);
  const layout = context.oneOf('layout', ['separate', 'single'] as const);
  const removalPolicy = context.oneOf('removalPolicy', ['retain', 'destroy'] as const);
  const storage: ConvexStorageProps = {
    bucketNamePrefix: context.string('bucketNamePrefix'),
    encryption: encryption === 'kms' ? StorageEncryption.KMS : encryption === 's3' ? StorageEncryption.S3_MANAGED : undefined,
    layout: layout === 'single' ? StorageLayout.SINGLE : layout === 'separate' ? StorageLayout.SEPARATE : undefined,
    exportsRetentionDays: context.integer('exportsRetentionDays'),
    importsRetentionDays: context.integer('importsRetentionDays'),
    noncurrentVersionRetentionDays: context.integer('noncurrentVersionRetentionDays'),
    removalPolicy: removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : removalPolicy === 'retain' ? RemovalPolicy.RETAIN : undefined,
    instanceName: readInstanceName(context),
    objectLock: context.boolean('objectLock'),
    objectLockRetentionDays: context.integer('objectLockRetentionDays'),
    backendVpcEndpointIds: context.stringList('backendVpcEndpointIds', 'VPC endpoint IDs'),
  };
  // The construct's own checks, now: every bad value is reported in this one round.
  for (const problem of convexStoragePropsProblems(storage)) {
    context.addProblem(problem);
  }
  const serviceOn = context.raw('service') === true || context.raw('service') === 'true';
  const backend = readBackendOptions(context, storage, stage, serviceOn);
  const service = readServiceOptions(context, backend?.dashboard === true);
  const backups = readBackupOptions(context, {
    service: serviceOn,
    https: context.raw('hostedZoneId') !== undefined || context.raw('certificateArn') !== undefined,
    exportsRetentionDays: storage.layout === StorageLayout.SINGLE ? Number.POSITIVE_INFINITY : storage.exportsRetentionDays,
  });
  const access = readAccess(context, backend !== undefined, storage.backendVpcEndpointIds !== undefined);
  const terminationProtection = context.boolean('terminationProtection') ?? stage === 'prod';
  const stack = readStackSettings(context);
  context.rejectUnknownKeys(CONTEXT_KEYS.map((k) => k.key));
  context.throwIfInvalid();
  return {
    stage, stackName: stack.stackName ?? `ConvexStorage-${stage}`, tags: stack.tags, acknowledgedWarnings: stack.acknowledgedWarnings,
    storage, access, backend, service, backups, terminationProtection,
  };
}

function readInstanceName(context: ContextReader): string | undefined {
  const name = context.string('instanceName');
  if (name === undefined) return undefined;
  const problems = instanceNameProblems(name);
  for (const problem of problems) {
    context.addProblem(`instanceName: '${name}' ${problem}.`);
  }
  return problems.length === 0 ? name : undefined;
}

function readAccess(context: ContextReader, ecsTaskDefinition: boolean, vpcEndpointRestricted: boolean): AccessSettings {
  const mode = context.oneOf('access', [BackendAccessMode.ROLE, BackendAccessMode.USER] as const) ?? BackendAccessMode.ROLE;
  const backendSourceIps = context.stringList('backendSourceIps', 'CIDR blocks');
  const settings: AccessSettings = {
    mode,
    trustedPrincipal: context.string('trustedPrincipal'),
    accessKeySerial: context.integer('accessKeySerial'),
    previousAccessKeySerial: context.integer('previousAccessKeySerial'),
    ecsTaskDefinition,
    backendSourceIps,
    vpcEndpointRestricted,
  };
  const listProblems = backendSourceIps === undefined ? [] : sourceIpListProblems('backendSourceIps', backendSourceIps);
  for (const problem of [...accessSettingsProblems(settings), ...listProblems]) {
    context.addProblem(problem);
  }
  return settings;
}
