/**
 * The per-bucket probe of `convex-storage verify`: the S3 calls the backend makes, shaped as
 * the backend makes them, on an object of our own that is removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { STRICT_BOOLEAN_VARS } from '../backend-env';
import { crc32Base64 } from './crc32';
import {
  PROBE_STEPS,
  describeError,
  diagnose,
  errorCode,
  httpStatus,
  type Diagnosis,
  type DiagnosisContext,
  type ProbeStep,
} from './diagnosis';

/** Every probe key starts with this, so anything left behind is recognisably ours. */
export const PROBE_PREFIX = 'convex-storage-verify/';

/** The outcome of one step. */
export interface StepOutcome {
  readonly step: ProbeStep;
  /** `warning`: works differently than on AWS, but the backend copes (or only leaves litter). */
  readonly status: 'ok' | 'warning' | 'failed';
  /** What was seen, in words. */
  readonly detail?: string;
  readonly diagnosis?: Diagnosis;
}

/** The result of probing one bucket. */
export interface BucketProbeResult {
  readonly bucket: string;
  readonly variables: readonly string[];
  readonly status: 'ok' | 'warning' | 'failed';
  readonly steps: readonly StepOutcome[];
  /** Objects or uploads that could not be removed, as `s3://bucket/key (why)`. */
  readonly leftovers: readonly string[];
}

/** One bucket to probe, with the variables that name it. */
export interface ProbeTarget {
  readonly bucket: string;
  readonly variables: readonly string[];
  /** Whether the backend deletes here; if not, a denied delete is expected (least privilege). */
  readonly backendDeletes: boolean;
}

/** How to probe. */
export interface ProbeOptions extends Omit<DiagnosisContext, 'step' | 'bucket' | 'variables'> {
  /** Send `x-amz-server-side-encryption: AES256` (unless AWS_S3_DISABLE_SSE=true). */
  readonly sse: boolean;
  /** Ask for CRC32 part checksums and require them back (unless AWS_S3_DISABLE_CHECKSUMS=true). */
  readonly checksums: boolean;
  /** Called after each step, for progress lines. */
  readonly onStep?: (target: ProbeTarget, outcome: StepOutcome) => void;
}

/** Thrown inside the probe to stop after a failed step; the outcome is already recorded. */
class StepFailed extends Error {}

/** Probes one bucket; never throws, and removes what it created. */
export async function probeBucket(client: S3Client, target: ProbeTarget, options: ProbeOptions): Promise<BucketProbeResult> {
  const steps: StepOutcome[] = [];
  const leftovers: string[] = [];
  const { bucket } = target;
  const key = `${PROBE_PREFIX}${randomUUID()}`;
  const body = Buffer.from(`convex-storage verify probe: safe to delete. ${key}\n`);
  const bodyChecksum = crc32Base64(body);
  const ctxFor = (step: ProbeStep): DiagnosisContext => ({ ...options, step, bucket, variables: target.variables });

  const record = (outcome: StepOutcome): void => {
    steps.push(outcome);
    options.onStep?.(target, outcome);
  };
  const fail = (step: ProbeStep, diagnosis: Diagnosis, detail?: string): never => {
    record({ step, status: 'failed', diagnosis, detail });
    throw new StepFailed();
  };
  /** Runs a step's request; a thrown error becomes a failed step with its diagnosis. */
  const attempt = async <T>(step: ProbeStep, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      return fail(step, diagnose(err, ctxFor(step)), describeError(err));
    }
  };

  // The backend's upload headers: SSE unless disabled, CRC32 unless disabled.
  const createInput = (objectKey: string, sse = options.sse, checksums = options.checksums) => ({
    Bucket: bucket,
    Key: objectKey,
    ...(sse ? { ServerSideEncryption: 'AES256' as const } : {}),
    ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
  });
  const partInput = (objectKey: string, uploadId: string) => ({
    Bucket: bucket,
    Key: objectKey,
    UploadId: uploadId,
    PartNumber: 1,
    Body: body,
    ...(options.checksums ? { ChecksumAlgorithm: 'CRC32' as const, ChecksumCRC32: bodyChecksum } : {}),
  });

  let openUpload: { key: string; uploadId: string; parts: CompletedPart[] } | undefined;
  let abortProbe: { key: string; uploadId: string; parts: CompletedPart[] } | undefined;
  let objectExists = false;

  try {
    // 1. CreateMultipartUpload, as every backend write starts.
    let created;
    try {
      created = await client.send(new CreateMultipartUploadCommand(createInput(key)));
    } catch (err) {
      return fail('createUpload', await pinpointCreateFailure(err), describeError(err));
    }
    if (!created.UploadId) {
      fail('createUpload', { code: 'unexpected', setting: 'S3_ENDPOINT_URL', message: 'The provider returned no UploadId.' });
    }
    openUpload = { key, uploadId: created.UploadId as string, parts: [] };
    record({ step: 'createUpload', status: 'ok' });

    // 2. UploadPart with a CRC32 checksum; the backend refuses a part answer without one.
    const part = await attempt('uploadPart', () => client.send(new UploadPartCommand(partInput(key, openUpload!.uploadId))));
    openUpload.parts.push({ ETag: part.ETag, PartNumber: 1, ...(part.ChecksumCRC32 ? { ChecksumCRC32: part.ChecksumCRC32 } : {}) });
    if (options.checksums && !part.ChecksumCRC32) {
      fail('uploadPart', {
        code: 'no-checksums',
        setting: STRICT_BOOLEAN_VARS.disableChecksums,
        message:
          `The provider returns no CRC32 checksums for uploaded parts; the backend requires them ("Object part missing hash") ` +
          `unless ${STRICT_BOOLEAN_VARS.disableChecksums}=true. Set ${STRICT_BOOLEAN_VARS.disableChecksums}=true.`,
      });
    }
    if (options.checksums && part.ChecksumCRC32 !== bodyChecksum) {
      fail('uploadPart', {
        code: 'checksum-mismatch',
        setting: STRICT_BOOLEAN_VARS.disableChecksums,
        message: `The provider returned CRC32 ${part.ChecksumCRC32} for a part whose CRC32 is ${bodyChecksum}: its checksums cannot be trusted. Set ${STRICT_BOOLEAN_VARS.disableChecksums}=true.`,
      });
    }
    record({ step: 'uploadPart', status: 'ok', detail: options.checksums ? 'CRC32 checksum returned' : undefined });

    // 3. CompleteMultipartUpload, passing the part checksums back as the backend does.
    const uploadToComplete = openUpload;
    await attempt('completeUpload', () =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadToComplete.uploadId,
          MultipartUpload: { Parts: uploadToComplete.parts },
        }),
      ),
    );
    openUpload = undefined;
    objectExists = true;
    record({ step: 'completeUpload', status: 'ok' });

    // 4. A ranged read, the backend's way of reading.
    const end = Math.min(15, body.length - 1);
    const got = await attempt('rangedGet', async () => {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${end}` }));
      return { out, bytes: Buffer.from((await out.Body?.transformToByteArray()) ?? []) };
    });
    if (!got.bytes.equals(body.subarray(0, end + 1))) {
      fail('rangedGet', {
        code: 'range-ignored',
        setting: STRICT_BOOLEAN_VARS.disableRangePrefetch,
        message: `A read of bytes 0-${end} returned ${got.bytes.length} bytes that differ from what was written: the provider mishandles ranged reads. Try ${STRICT_BOOLEAN_VARS.disableRangePrefetch}=true.`,
      });
    }
    const expectedRange = `bytes 0-${end}/${body.length}`;
    if (got.out.ContentRange !== expectedRange) {
      record({
        step: 'rangedGet',
        status: 'warning',
        detail: `Content-Range was '${got.out.ContentRange ?? ''}', expected '${expectedRange}'; if reads fail, set ${STRICT_BOOLEAN_VARS.disableRangePrefetch}=true`,
      });
    } else {
      record({ step: 'rangedGet', status: 'ok' });
    }

    // 5. HeadObject.
    const head = await attempt('head', () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    if (head.ContentLength !== body.length) {
      fail('head', {
        code: 'unexpected',
        setting: 'S3_ENDPOINT_URL',
        message: `HeadObject reported ${head.ContentLength} bytes for an object of ${body.length}.`,
      });
    }
    record({ step: 'head', status: 'ok' });

    // 6. A missing key must answer 404; without s3:ListBucket S3 answers 403, which the
    //    backend treats as an error rather than "not found".
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}-missing` }));
      fail('missingKey', { code: 'unexpected', setting: 'S3_ENDPOINT_URL', message: 'A key that was never written exists.' });
    } catch (err) {
      if (err instanceof StepFailed) {
        throw err;
      }
      if (httpStatus(err) === 404 || errorCode(err) === 'NotFound' || errorCode(err) === 'NoSuchKey') {
        record({ step: 'missingKey', status: 'ok', detail: '404 as expected' });
      } else {
        fail('missingKey', diagnose(err, ctxFor('missingKey')), describeError(err));
      }
    }

    // 7. DeleteObject of the probe. The backend deletes only in the exports bucket; elsewhere
    //    a least-privilege policy denies it, which is right but leaves the probe behind.
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      objectExists = false;
      record({ step: 'delete', status: 'ok' });
    } catch (err) {
      const diagnosis = diagnose(err, ctxFor('delete'));
      if (diagnosis.code === 'access-denied' && !target.backendDeletes) {
        record({
          step: 'delete',
          status: 'warning',
          detail: 'denied, as a least-privilege policy should be here (the backend never deletes in this bucket)',
        });
      } else {
        fail('delete', diagnosis, describeError(err));
      }
    }

    // 8. An aborted upload: the backend aborts failed or dropped uploads.
    const abortKey = `${key}-aborted`;
    const abortCreated = await attempt('abortUpload', () => client.send(new CreateMultipartUploadCommand(createInput(abortKey))));
    abortProbe = { key: abortKey, uploadId: abortCreated.UploadId as string, parts: [] };
    const abortPart = await attempt('abortUpload', () => client.send(new UploadPartCommand(partInput(abortKey, abortProbe!.uploadId))));
    abortProbe.parts.push({ ETag: abortPart.ETag, PartNumber: 1, ...(abortPart.ChecksumCRC32 ? { ChecksumCRC32: abortPart.ChecksumCRC32 } : {}) });
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: abortKey, UploadId: abortProbe.uploadId }));
      abortProbe = undefined;
      record({ step: 'abortUpload', status: 'ok' });
    } catch (err) {
      const diagnosis = diagnose(err, ctxFor('abortUpload'));
      const code = errorCode(err);
      if (code === 'MethodNotAllowed' || code === 'NotImplemented' || httpStatus(err) === 405 || httpStatus(err) === 501) {
        record({
          step: 'abortUpload',
          status: 'warning',
          detail:
            `the provider does not support AbortMultipartUpload (${describeError(err)}): uploads the backend abandons ` +
            'will leave their parts behind. Add an abort-incomplete-multipart-upload lifecycle rule if the provider has one',
        });
      } else {
        fail('abortUpload', diagnosis, describeError(err));
      }
    }
  } catch (err) {
    if (!(err instanceof StepFailed)) {
      record({
        step: steps.length > 0 ? steps[steps.length - 1].step : 'createUpload',
        status: 'failed',
        diagnosis: { code: 'unexpected', setting: 'S3_ENDPOINT_URL', message: describeError(err) },
      });
    }
  } finally {
    // Leave nothing behind: abort what is open (or, where abort is unsupported, complete it and
    // delete the result), and delete the probe object if it still exists.
    for (const upload of [openUpload, abortProbe]) {
      const left = upload === undefined ? undefined : await disposeUpload(upload);
      if (left !== undefined) {
        leftovers.push(left);
      }
    }
    if (objectExists && !(await deleteQuietly(key))) {
      leftovers.push(probeObjectLeft(key));
    }
  }

  const status = steps.some((s) => s.status === 'failed') ? 'failed' : steps.some((s) => s.status === 'warning') || leftovers.length > 0 ? 'warning' : 'ok';
  return { bucket, variables: target.variables, status, steps, leftovers };

  /**
   * Explains a failed CreateMultipartUpload. When nothing general explains it, retries without
   * the SSE header, then without the checksum algorithm: if one of those is accepted, the
   * provider rejects exactly that header, and the matching AWS_S3_DISABLE_* is the fix.
   */
  async function pinpointCreateFailure(err: unknown): Promise<Diagnosis> {
    const general = diagnose(err, ctxFor('createUpload'));
    if (general.code !== 'unexpected') {
      return general;
    }
    const variants = [
      { sse: false, checksums: options.checksums, setting: STRICT_BOOLEAN_VARS.disableSse, header: 'x-amz-server-side-encryption: AES256', when: options.sse },
      { sse: options.sse, checksums: false, setting: STRICT_BOOLEAN_VARS.disableChecksums, header: 'x-amz-checksum-algorithm: CRC32', when: options.checksums },
    ];
    for (const variant of variants) {
      if (!variant.when) {
        continue;
      }
      const variantKey = `${key}-variant`;
      try {
        const out = await client.send(new CreateMultipartUploadCommand(createInput(variantKey, variant.sse, variant.checksums)));
        const left = out.UploadId ? await disposeUpload({ key: variantKey, uploadId: out.UploadId, parts: [] }) : undefined;
        if (left !== undefined) {
          leftovers.push(left);
        }
        return {
          code: variant.setting === STRICT_BOOLEAN_VARS.disableSse ? 'sse-rejected' : 'checksums-rejected',
          setting: variant.setting,
          message:
            `The provider rejects the '${variant.header}' header the backend sends on every upload ` +
            `(${describeError(err)}), and accepts the upload without it. Set ${variant.setting}=true.`,
        };
      } catch {
        // This header is not the (only) cause; try the next.
      }
    }
    return general;
  }

  function probeObjectLeft(objectKey: string): string {
    return `s3://${bucket}/${objectKey} (probe object; delete it with credentials that may delete)`;
  }

  /**
   * Aborts an upload; where abort is unsupported, completes it and deletes the result.
   *
   * @returns undefined when nothing is left, else a description of what is.
   */
  async function disposeUpload(upload: { key: string; uploadId: string; parts: CompletedPart[] }): Promise<string | undefined> {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }));
      return undefined;
    } catch {
      // Fall through: some providers (s3rver, for one) cannot abort, but can complete.
    }
    try {
      const parts = [...upload.parts];
      if (parts.length === 0) {
        const part = await client.send(
          new UploadPartCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId, PartNumber: 1, Body: body }),
        );
        parts.push({ ETag: part.ETag, PartNumber: 1 });
      }
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch {
      return `s3://${bucket}/${upload.key} (incomplete multipart upload ${upload.uploadId})`;
    }
    return (await deleteQuietly(upload.key)) ? undefined : probeObjectLeft(upload.key);
  }

  async function deleteQuietly(objectKey: string): Promise<boolean> {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey }));
      return true;
    } catch {
      return false;
    }
  }
}

export { PROBE_STEPS };
