import { Resource, Stack, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeWildcardFindings } from '../compliance';
import { STORAGE_KINDS, StorageKind } from '../storage-kinds';

/**
 * The exact permissions of the Convex backend on its storage, derived from the S3 calls it makes
 * (`crates/aws_s3/src/storage.rs` in get-convex/convex-backend):
 *
 * - every write is a multipart upload (`s3:PutObject` covers create, upload part, complete);
 * - failed or dropped uploads are aborted (`s3:AbortMultipartUpload`);
 * - every read is a ranged GetObject or a HeadObject (`s3:GetObject`);
 * - `s3:ListBucket` on the bucket makes a missing key answer 404 instead of 403, which the
 *   backend would treat as an error;
 * - the backend deletes only expired snapshot exports (`s3:DeleteObject` where the storage table
 *   says `backendDeletes`);
 * - with SSE-KMS, S3 calls KMS on the backend's behalf (`kms:GenerateDataKey`, `kms:Decrypt`).
 *
 * Nothing version-specific (`s3:DeleteObjectVersion` would let a leaked credential destroy the
 * history versioning keeps), nothing bucket-level beyond listing, no wildcard action.
 */
export const BACKEND_BUCKET_ACTIONS: readonly string[] = ['s3:ListBucket'];
/** Object actions the backend needs in every bucket. */
export const BACKEND_OBJECT_ACTIONS: readonly string[] = ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'];
/** Object actions the backend needs only where it deletes (expired exports). */
export const BACKEND_DELETE_ACTIONS: readonly string[] = ['s3:DeleteObject'];
/** KMS actions S3 performs for the backend on an SSE-KMS bucket. */
export const BACKEND_KMS_ACTIONS: readonly string[] = ['kms:GenerateDataKey', 'kms:Decrypt'];

/** What the access policy covers. */
export interface BackendAccessPolicyOptions {
  /** The bucket of each kind (the same bucket for every kind in the single layout). */
  readonly buckets: Readonly<Record<StorageKind, s3.IBucket>>;
  /**
   * The buckets' KMS key in SSE-KMS mode.
   *
   * @default - no KMS statement (SSE-S3 buckets)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The backend's `INSTANCE_NAME`: object ARNs narrow to `<bucket>/<instanceName>-<uuid>/*`, the
   * prefix the backend puts in front of every key.
   *
   * @default - every object of the buckets
   */
  readonly instanceName?: string;
  /**
   * Grant `s3:DeleteObject` on every bucket, for backend versions that delete more than
   * expired exports.
   *
   * @default false
   */
  readonly grantDeleteOnAllBuckets?: boolean;
}

/**
 * The UUID the backend draws at first boot, as IAM wildcards: the hyphenated lowercase form of a
 * v4 UUID (`format!("{instance_name}-{uuid}/")` in `crates/model/src/database_globals`).
 */
const UUID_WILDCARD = '????????-????-????-????-????????????';

/**
 * The object key pattern the policy grants: `<instanceName>-<uuid>/*` written with `?`
 * wildcards (so `my-app` does not also match `my-app-staging`'s keys), or `*` without a name.
 */
export function backendObjectKeyPattern(instanceName?: string): string {
  return instanceName === undefined ? '*' : `${instanceName}-${UUID_WILDCARD}/*`;
}

/** The backend's statements, one per purpose, with resources deduplicated across kinds. */
export function backendAccessStatements(options: BackendAccessPolicyOptions): iam.PolicyStatement[] {
  const keys = backendObjectKeyPattern(options.instanceName);
  const all = distinct(STORAGE_KINDS.map((spec) => options.buckets[spec.kind]));
  const deleting = options.grantDeleteOnAllBuckets
    ? all
    : distinct(STORAGE_KINDS.filter((spec) => spec.backendDeletes).map((spec) => options.buckets[spec.kind]));

  const statements = [
    new iam.PolicyStatement({
      sid: 'ListBuckets',
      actions: [...BACKEND_BUCKET_ACTIONS],
      resources: all.map((bucket) => bucket.bucketArn),
    }),
    new iam.PolicyStatement({
      sid: 'ReadWriteObjects',
      actions: [...BACKEND_OBJECT_ACTIONS],
      resources: all.map((bucket) => bucket.arnForObjects(keys)),
    }),
  ];
  if (deleting.length > 0) {
    statements.push(new iam.PolicyStatement({
      sid: options.grantDeleteOnAllBuckets ? 'DeleteObjects' : 'DeleteExpiredExports',
      actions: [...BACKEND_DELETE_ACTIONS],
      resources: deleting.map((bucket) => bucket.arnForObjects(keys)),
    }));
  }
  if (options.encryptionKey) {
    const stack = Stack.of(options.encryptionKey);
    statements.push(new iam.PolicyStatement({
      sid: 'UseStorageKeyThroughS3',
      actions: [...BACKEND_KMS_ACTIONS],
      resources: [options.encryptionKey.keyArn],
      // Only S3 uses the key for the backend; the credential cannot call KMS directly.
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } },
    }));
  }
  return statements;
}

/** The backend's policy document, exactly as designed (not minimized). */
export function backendAccessPolicyDocument(options: BackendAccessPolicyOptions): iam.PolicyDocument {
  return new iam.PolicyDocument({ statements: backendAccessStatements(options), minimize: false });
}

/**
 * Creates the one customer-managed policy that holds the backend's permissions, and records why
 * its object wildcards are acceptable for cdk-nag's AwsSolutions-IAM5.
 */
export function newBackendAccessPolicy(scope: Construct, id: string, options: BackendAccessPolicyOptions): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(scope, id, {
    description: 'Least-privilege S3 (and KMS) access of a self-hosted Convex backend to its storage (cdk-convex-storage)',
    document: backendAccessPolicyDocument(options),
  });
  const keys = backendObjectKeyPattern(options.instanceName);
  const reason = options.instanceName === undefined
    ? `The wildcard is the object key space of one named Convex storage bucket, nothing else: the backend writes every object under a random key (<INSTANCE_NAME>-<uuid>/<uuid>) it cannot list in advance. Set instanceName to narrow it to the backend's key prefix.`
    : `The wildcards are the backend's own key shape '${keys}' in one named Convex storage bucket: the backend writes every object as ${options.instanceName}-<uuid>/<uuid>, with a prefix UUID drawn at its first boot and object UUIDs it cannot list in advance.`;
  acknowledgeWildcardFindings(policy, policy.document, reason);
  return policy;
}

/**
 * Attaches `policy` to the IAM role, user or group behind `grantee`, and returns that identity.
 *
 * Identities this app defines get the policy on their own side (`ManagedPolicyArns`), so a role
 * in another stack depends on the storage stack, in the same direction as its bucket names.
 * Imported identities cannot be changed, so the policy names them instead (`Roles`, `Users`,
 * `Groups` of the managed policy).
 */
export function attachBackendAccessPolicy(policy: iam.ManagedPolicy, grantee: iam.IGrantable): BackendIdentity {
  const identity = [grantee, grantee.grantPrincipal].find(isIdentity);
  if (identity === undefined) {
    throw new Error(
      `grantBackendAccess attaches the managed policy ${policy.node.path} to an IAM role, user or group, but got ${describeGrantee(grantee)}. `
      + 'Pass the role the backend runs with (for ECS, taskDefinition.taskRole), an IAM user or an IAM group.',
    );
  }
  if (Resource.isOwnedResource(identity)) {
    identity.addManagedPolicy(policy);
  } else if (isRole(identity)) {
    policy.attachToRole(identity);
  } else if (isUser(identity)) {
    policy.attachToUser(identity);
  } else {
    policy.attachToGroup(identity);
  }
  return identity;
}

/** The IAM identities the backend's access policy can be attached to. */
export type BackendIdentity = iam.IRole | iam.IUser | iam.IGroup;

/**
 * The ARN a request of `identity` carries as `aws:PrincipalArn` (for a role, the role's ARN, not
 * the session's), or undefined for a group, which is never a request's principal.
 */
export function principalArnOf(identity: BackendIdentity): string | undefined {
  if (isRole(identity)) return identity.roleArn;
  if (isUser(identity)) return identity.userArn;
  return undefined;
}

type Identity = BackendIdentity;

function isRole(x: unknown): x is iam.IRole {
  return hasManagedPolicies(x) && typeof (x as { roleArn?: unknown }).roleArn === 'string' && typeof (x as { roleName?: unknown }).roleName === 'string';
}

function isUser(x: unknown): x is iam.IUser {
  return hasManagedPolicies(x) && typeof (x as { userArn?: unknown }).userArn === 'string' && typeof (x as { userName?: unknown }).userName === 'string';
}

function isGroup(x: unknown): x is iam.IGroup {
  return hasManagedPolicies(x) && typeof (x as { groupArn?: unknown }).groupArn === 'string' && typeof (x as { groupName?: unknown }).groupName === 'string';
}

function isIdentity(x: unknown): x is Identity {
  return isRole(x) || isUser(x) || isGroup(x);
}

function hasManagedPolicies(x: unknown): boolean {
  return typeof x === 'object' && x !== null && typeof (x as { addManagedPolicy?: unknown }).addManagedPolicy === 'function'
    && typeof (x as IConstruct).node === 'object';
}

function describeGrantee(grantee: iam.IGrantable): string {
  const kind = grantee.grantPrincipal?.constructor?.name ?? 'principal';
  const path = (grantee as Partial<IConstruct>).node?.path;
  return path ? `${path}, whose principal is of type ${kind}` : `a principal of type ${kind}`;
}

function distinct<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
