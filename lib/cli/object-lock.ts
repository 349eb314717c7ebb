/**
 * S3 Object Lock default retention, as the CLI sees it before it probes.
 *
 * S3 refuses an upload into a bucket with a default retention unless it carries `Content-MD5`
 * or an `x-amz-checksum-*` header (S3 API reference, PutObject and UploadPart: "The Content-MD5
 * or x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a
 * retention period configured using Amazon S3 Object Lock"). The backend's multipart parts carry
 * CRC32 checksums, and nothing else, so `AWS_S3_DISABLE_CHECKSUMS=true` breaks every write there.
 */
import { GetObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { STRICT_BOOLEAN_VARS } from '../backend-env';
import type { EnvFinding } from './env-checks';

/** The bucket's default retention in words (`GOVERNANCE, 30 days`), or undefined if it has none or cannot tell. */
export async function defaultRetentionOf(client: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const { ObjectLockConfiguration: config } = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    const retention = config?.Rule?.DefaultRetention;
    if (!retention?.Mode) return undefined;
    return `${retention.Mode}, ${retention.Days !== undefined ? `${retention.Days} days` : `${retention.Years} years`}`;
  } catch {
    // No object lock configuration, no permission to read it, or a provider without the API:
    // the probes show what the backend would meet.
    return undefined;
  }
}

/** The error for a bucket with a default retention while checksums are disabled. */
export function checksumsDisabledFinding(bucket: string, variables: readonly string[], retention: string): EnvFinding {
  return {
    level: 'error',
    variable: STRICT_BOOLEAN_VARS.disableChecksums,
    message:
      `${STRICT_BOOLEAN_VARS.disableChecksums}=true, but bucket ${bucket} (${variables.join(', ')}) has S3 Object Lock with a default ` +
      `retention (${retention}): S3 refuses every upload there without Content-MD5 or a checksum header, and with checksums ` +
      `disabled the backend sends neither. Remove ${STRICT_BOOLEAN_VARS.disableChecksums} (AWS S3 returns the CRC32 checksums the backend asks for).`,
  };
}
