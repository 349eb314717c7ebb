/**
 * The buckets named by a backend environment, one entry per distinct bucket with every variable
 * that names it (the single-bucket layout names one bucket five times).
 */
import { STORAGE_KINDS, type StorageKindSpec } from '../storage-kinds';
import { envValue, type EnvValues } from './env-checks';

/** One distinct bucket and the storage kinds it holds. */
export interface BucketTarget {
  readonly bucket: string;
  readonly kinds: readonly StorageKindSpec[];
  /** The variables naming it, in table order. */
  readonly variables: readonly string[];
  /** Whether the backend deletes objects in it (any of its kinds does). */
  readonly backendDeletes: boolean;
}

/** Groups the set bucket variables by bucket name, in the table's order. */
export function bucketTargets(env: EnvValues): BucketTarget[] {
  const byName = new Map<string, StorageKindSpec[]>();
  for (const kind of STORAGE_KINDS) {
    const bucket = envValue(env, kind.envVar);
    if (bucket !== undefined) {
      byName.set(bucket, [...(byName.get(bucket) ?? []), kind]);
    }
  }
  return [...byName.entries()].map(([bucket, kinds]) => ({
    bucket,
    kinds,
    variables: kinds.map((k) => k.envVar),
    backendDeletes: kinds.some((k) => k.backendDeletes),
  }));
}
