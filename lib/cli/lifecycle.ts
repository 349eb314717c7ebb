/**
 * The lifecycle rules `provision` sets, derived from the storage table exactly as the CDK
 * construct derives its own, so a non-AWS bucket ages data like an AWS one.
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { LIFECYCLE_DEFAULTS, type StorageKindSpec } from '../storage-kinds';

/** Every rule this tool manages has an ID with this prefix; other rules are left alone. */
export const RULE_ID_PREFIX = 'convex-storage-';

/**
 * The rules for a bucket holding `kinds`. Current objects expire only when every kind in the
 * bucket allows it (exports, imports): in a bucket that also holds files, modules or search
 * indexes, expiring current objects would be data loss.
 */
export function lifecycleRulesFor(kinds: readonly StorageKindSpec[]): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    {
      ID: `${RULE_ID_PREFIX}abort-incomplete-multipart-uploads`,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      // Client-driven import uploads are never aborted by the backend itself.
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays },
    },
    {
      ID: `${RULE_ID_PREFIX}expire-noncurrent-versions`,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      NoncurrentVersionExpiration: { NoncurrentDays: LIFECYCLE_DEFAULTS.noncurrentVersionRetentionDays },
      // Delete markers with no versions left behind them only slow listings down.
      Expiration: { ExpiredObjectDeleteMarker: true },
    },
  ];
  const expiries = kinds.map((k) => k.currentObjects);
  if (expiries.length > 0 && expiries.every((c) => c.expires)) {
    // Several expiring kinds in one bucket: keep objects as long as the longest retention.
    const days = Math.max(...expiries.map((c) => (c.expires ? c.defaultDays : 0)));
    rules.push({
      ID: `${RULE_ID_PREFIX}expire-current-objects`,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      Expiration: { Days: days },
    });
  }
  return rules;
}
