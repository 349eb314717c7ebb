/**
 * The one table of what the Convex backend stores in S3.
 *
 * Everything that names a storage kind (the construct's buckets, the stack outputs, the
 * `.env` block, the ECS environment, the IAM policy and the CLI) is derived from this table,
 * so a variable name is written exactly once in the code base.
 *
 * This module must not import aws-cdk-lib: the CLI shares it and should start fast.
 */

/**
 * Days after its request that a snapshot export expires (`DEFAULT_EXPORT_RETENTION`,
 * `crates/model/src/exports/mod.rs`). It stays listed and downloadable after that.
 */
export const EXPORT_EXPIRY_DAYS = 14;

/**
 * Days the backend keeps an expired export before it deletes its object
 * (`MAX_EXPIRED_SNAPSHOT_AGE_DAYS` knob, default 30, `system_table_cleanup/mod.rs`).
 */
export const MAX_EXPIRED_SNAPSHOT_AGE_DAYS = 30;

/**
 * Days a snapshot export stays "Completed", listed and downloadable: from its request until the
 * backend deletes it, about 44. A lifecycle rule that deletes it sooner deletes a backup the
 * backend still lists and serves.
 */
export const EXPORT_LISTED_DAYS = EXPORT_EXPIRY_DAYS + MAX_EXPIRED_SNAPSHOT_AGE_DAYS;

/**
 * Days the backend may still read an uploaded snapshot import (`MAX_IMPORT_AGE_SECONDS`, 7 days,
 * `crates/common/src/knobs.rs`: "If an import takes more than a week, the file may be deleted").
 */
export const MAX_IMPORT_AGE_DAYS = 7;

/** The five kinds of data a self-hosted Convex backend keeps in S3. */
export type StorageKind = 'exports' | 'snapshotImports' | 'modules' | 'files' | 'search';

/** Lifecycle of the current (live) objects of one kind. */
export type CurrentObjectExpiry =
  /** The backend relies on every current object forever: expiring one is data loss. */
  | { readonly expires: false }
  /** Current objects may expire after a retention period the user can tune. */
  | {
    readonly expires: true;
    /** The construct prop and CDK context key that tunes the retention. */
    readonly retentionSetting: 'exportsRetentionDays' | 'importsRetentionDays';
    /** Retention used when the user sets none. */
    readonly defaultDays: number;
    /** Smallest retention that does not break the backend. */
    readonly minDays: number;
    /** Why {@link minDays} is the floor, quoted in the validation error. */
    readonly minDaysReason: string;
  };

/** One row of the storage table. */
export interface StorageKindSpec {
  /** Stable identifier, also the construct ID suffix of the bucket. */
  readonly kind: StorageKind;
  /** The exact environment variable the backend reads the bucket name from. */
  readonly envVar: string;
  /** Suffix appended to `bucketNamePrefix` to form the bucket name. */
  readonly bucketSuffix: string;
  /** What the backend keeps there, in words for docs, outputs and CLI messages. */
  readonly description: string;
  /** Lifecycle of current objects. */
  readonly currentObjects: CurrentObjectExpiry;
  /**
   * Whether the backend itself deletes objects here (it only cleans up expired exports), so
   * the access policy grants `s3:DeleteObject` on this bucket.
   */
  readonly backendDeletes: boolean;
  /**
   * Whether the bucket gets S3 Object Lock with a default GOVERNANCE retention when object lock
   * is on: only where the data cannot be re-created and every backend write into the bucket
   * carries the integrity header S3 requires for an upload under a default retention
   * (`Content-MD5` or an `x-amz-checksum-*` header). The backend writes with multipart uploads
   * whose parts carry CRC32 checksums (unless `AWS_S3_DISABLE_CHECKSUMS=true`); the Node
   * executor's presigned PUT into the modules bucket carries neither header.
   */
  readonly objectLock: { readonly locked: boolean; readonly reason: string };
}

/** The storage table, in the order the upstream docs list the variables. */
export const STORAGE_KINDS: readonly StorageKindSpec[] = [
  {
    kind: 'exports',
    envVar: 'S3_STORAGE_EXPORTS_BUCKET',
    bucketSuffix: 'exports',
    description: 'snapshot exports (backups made by `npx convex export` and scheduled exports)',
    currentObjects: {
      expires: true,
      retentionSetting: 'exportsRetentionDays',
      defaultDays: 45,
      minDays: EXPORT_LISTED_DAYS,
      minDaysReason: `the backend keeps a finished export listed and downloadable until it deletes it itself, about ${EXPORT_LISTED_DAYS} days after the request (it expires after ${EXPORT_EXPIRY_DAYS} days and is deleted ${MAX_EXPIRED_SNAPSHOT_AGE_DAYS} days later); a shorter retention deletes backups the dashboard and the export API still list`,
    },
    backendDeletes: true,
    objectLock: { locked: true, reason: 'snapshot exports are the backups; the backend writes them with multipart uploads that carry CRC32 part checksums, and deletes them only by key (a delete marker, which object lock allows)' },
  },
  {
    kind: 'snapshotImports',
    envVar: 'S3_STORAGE_SNAPSHOT_IMPORTS_BUCKET',
    bucketSuffix: 'snapshot-imports',
    description: 'snapshot imports (archives uploaded by `npx convex import`)',
    currentObjects: {
      expires: true,
      retentionSetting: 'importsRetentionDays',
      defaultDays: 30,
      minDays: MAX_IMPORT_AGE_DAYS,
      minDaysReason: `the backend may read an uploaded import for up to ${MAX_IMPORT_AGE_DAYS} days while it processes it`,
    },
    backendDeletes: false,
    objectLock: { locked: false, reason: 'an import is a copy of an archive its uploader still has, read for at most 7 days' },
  },
  {
    kind: 'modules',
    envVar: 'S3_STORAGE_MODULES_BUCKET',
    bucketSuffix: 'modules',
    description: 'function modules (the deployed code)',
    currentObjects: { expires: false },
    backendDeletes: false,
    objectLock: { locked: false, reason: 'the Node executor uploads modules with a presigned PUT that carries neither Content-MD5 nor a checksum header, which S3 rejects under a default retention; `npx convex deploy` re-creates them' },
  },
  {
    kind: 'files',
    envVar: 'S3_STORAGE_FILES_BUCKET',
    bucketSuffix: 'files',
    description: 'user files (the file storage API)',
    currentObjects: { expires: false },
    backendDeletes: false,
    objectLock: { locked: true, reason: 'user files exist nowhere else; the backend writes them with multipart uploads that carry CRC32 part checksums and never overwrites or deletes them' },
  },
  {
    kind: 'search',
    envVar: 'S3_STORAGE_SEARCH_BUCKET',
    bucketSuffix: 'search',
    description: 'search indexes (text and vector index segments)',
    currentObjects: { expires: false },
    backendDeletes: false,
    objectLock: { locked: false, reason: 'search index segments are rebuilt from the documents' },
  },
];

/** Lifecycle defaults shared by every data bucket. */
export const LIFECYCLE_DEFAULTS = {
  /** Client-driven import uploads are never aborted by the backend itself. */
  abortIncompleteMultipartUploadDays: 7,
  /** How long an overwritten or deleted object stays recoverable. */
  noncurrentVersionRetentionDays: 30,
  /** How long server access logs are kept in the log bucket the construct creates. */
  accessLogRetentionDays: 365,
} as const;

/** Looks up one row of the table. */
export function storageKind(kind: StorageKind): StorageKindSpec {
  const spec = STORAGE_KINDS.find((s) => s.kind === kind);
  if (!spec) {
    throw new Error(`Unknown storage kind '${kind}'`);
  }
  return spec;
}
