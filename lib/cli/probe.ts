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
import { S3_ENDPOINT_URL, STRICT_BOOLEAN_VARS } from '../backend-env';
import { LIFECYCLE_DEFAULTS } from '../storage-kinds';
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

/** Every probe key contains this, so anything left behind is recognisably ours. */
export const PROBE_NAME = 'convex-storage-verify';

/**
 * A fresh probe key. With `INSTANCE_NAME` set it has the backend's own key shape,
 * `<INSTANCE_NAME>-<uuid v4>/<name>`, because an access policy narrowed to the instance
 * (`<bucket>/<INSTANCE_NAME>-????????-????-????-????-????????????/*`) allows nothing else; the
 * random UUID never collides with the backend's real prefix. Without it: `convex-storage-verify/<uuid>`.
 */
export function probeKey(instanceName: string | undefined): string {
  return instanceName ? `${instanceName}-${randomUUID()}/${PROBE_NAME}-${randomUUID()}` : `${PROBE_NAME}/${randomUUID()}`;
}

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
  /**
   * Whether these credentials may delete here. When not, verify creates no complete object in
   * the bucket (it could not remove it): writes are proven with an aborted upload, reads with a
   * missing key. Undefined when the check itself failed.
   */
  readonly deleteAllowed?: boolean;
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
  /** The backend's INSTANCE_NAME, if set: probe keys then take the backend's key shape. */
  readonly instanceName?: string;
  /** Called after each step, for progress lines. */
  readonly onStep?: (target: ProbeTarget, outcome: StepOutcome) => void;
}

/** Thrown inside the probe to stop after a failed step; the outcome is already recorded. */
class StepFailed extends Error {}

/** A multipart upload the probe opened. */
interface OpenUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly parts: CompletedPart[];
}

/** Errors meaning "this provider does not implement AbortMultipartUpload". */
function isAbortUnsupported(err: unknown): boolean {
  const code = errorCode(err);
  const status = httpStatus(err);
  return code === 'MethodNotAllowed' || code === 'NotImplemented' || status === 405 || status === 501;
}

function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return httpStatus(err) === 404 || code === 'NotFound' || code === 'NoSuchKey';
}

/** What the CDK construct's lifecycle rule does with an upload nobody could abort. */
const LIFECYCLE_CLEANUP =
  `the bucket's abort-incomplete-multipart-upload lifecycle rule removes it (after ${LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays} ` +
  'days in the CDK construct; `convex-storage provision` sets the same rule where the provider supports one)';

/**
 * Probes one bucket; never throws, and leaves nothing behind that it can remove.
 *
 * First a DeleteObject of a key that does not exist tells whether these credentials may delete
 * here (204 when allowed, 403 when not; nothing is created). Where they may, the full cycle runs:
 * a complete upload, reads, the delete of the probe, an aborted upload. Where they may not (the
 * least-privilege policy grants s3:DeleteObject on the exports bucket only), no complete object
 * is created: writes are proven with an upload that is aborted, reads with a missing key.
 */
export async function probeBucket(client: S3Client, target: ProbeTarget, options: ProbeOptions): Promise<BucketProbeResult> {
  const steps: StepOutcome[] = [];
  const leftovers: string[] = [];
  const { bucket } = target;
  const key = probeKey(options.instanceName);
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

  /** Uploads this probe opened and has not closed yet; `finally` disposes of them. */
  const open = new Set<OpenUpload>();
  let objectExists = false;
  let deleteAllowed: boolean | undefined;

  try {
    deleteAllowed = await checkDelete();
    if (deleteAllowed) {
      await fullCycle();
    } else {
      await cycleWithoutObject();
    }
  } catch (err) {
    if (!(err instanceof StepFailed)) {
      record({
        step: steps.length > 0 ? steps[steps.length - 1].step : 'deleteCheck',
        status: 'failed',
        diagnosis: { code: 'unexpected', setting: S3_ENDPOINT_URL, message: describeError(err) },
      });
    }
  } finally {
    // Leave nothing behind: abort what is open (or, where abort is unsupported and deleting is
    // allowed, complete it and delete the result), and delete the probe object if it exists.
    for (const upload of open) {
      const left = await disposeUpload(upload);
      if (left !== undefined) {
        leftovers.push(left);
      }
    }
    if (objectExists && !(await deleteQuietly(key))) {
      leftovers.push(probeObjectLeft(key));
    }
  }

  const status = steps.some((s) => s.status === 'failed') ? 'failed' : steps.some((s) => s.status === 'warning') || leftovers.length > 0 ? 'warning' : 'ok';
  return { bucket, variables: target.variables, status, deleteAllowed, steps, leftovers };

  /**
   * DeleteObject of a key that does not exist: S3 answers 204 when s3:DeleteObject is allowed
   * and 403 when not, and creates nothing (on a versioned bucket: a delete marker, which the
   * expired-delete-marker lifecycle rule removes).
   *
   * @returns whether deleting is allowed; a denial is a failure only where the backend deletes.
   */
  async function checkDelete(): Promise<boolean> {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${key}-delete-check` }));
      record({ step: 'deleteCheck', status: 'ok', detail: 'allowed: full cycle with a complete probe object, deleted afterwards' });
      return true;
    } catch (err) {
      const diagnosis = diagnose(err, ctxFor('deleteCheck'));
      if (diagnosis.code !== 'access-denied') {
        return fail('deleteCheck', diagnosis, describeError(err));
      }
      if (target.backendDeletes) {
        // Recorded, not thrown: the checks without a complete object still tell the rest.
        record({
          step: 'deleteCheck',
          status: 'failed',
          detail: describeError(err),
          diagnosis: {
            code: 'delete-denied',
            setting: 's3:DeleteObject',
            message:
              `DeleteObject is denied in '${bucket}' (${target.variables.join(', ')}), but the backend deletes expired snapshot ` +
              `exports there: grant s3:DeleteObject on arn:aws:s3:::${bucket}/* to the backend's credentials.`,
          },
        });
      } else {
        record({
          step: 'deleteCheck',
          status: 'ok',
          detail:
            'denied, as least privilege intends here (the backend never deletes in this bucket): checking without a ' +
            'complete object (an aborted upload, a read of a missing key)',
        });
      }
      return false;
    }
  }

  /** Where deleting is allowed: the backend's whole write and read path on a real object. */
  async function fullCycle(): Promise<void> {
    // 1-2. CreateMultipartUpload and UploadPart, as every backend write starts.
    const upload = await startUpload(key, 'createUpload');
    record({ step: 'createUpload', status: 'ok' });
    await uploadPart(upload, 'uploadPart', true);
    record({ step: 'uploadPart', status: 'ok', detail: options.checksums ? 'CRC32 checksum returned' : undefined });

    // 3. CompleteMultipartUpload, passing the part checksums back as the backend does.
    await attempt('completeUpload', () =>
      client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.uploadId, MultipartUpload: { Parts: upload.parts } }),
      ),
    );
    open.delete(upload);
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
        setting: S3_ENDPOINT_URL,
        message: `HeadObject reported ${head.ContentLength} bytes for an object of ${body.length}.`,
      });
    }
    record({ step: 'head', status: 'ok' });

    // 6. A missing key must answer 404; without s3:ListBucket S3 answers 403, which the
    //    backend treats as an error rather than "not found".
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}-missing` }));
      fail('missingKey', { code: 'unexpected', setting: S3_ENDPOINT_URL, message: 'A key that was never written exists.' });
    } catch (err) {
      if (err instanceof StepFailed) {
        throw err;
      }
      if (isNotFound(err)) {
        record({ step: 'missingKey', status: 'ok', detail: '404 as expected' });
      } else {
        fail('missingKey', diagnose(err, ctxFor('missingKey')), describeError(err));
      }
    }

    // 7. DeleteObject of the probe (allowed, as the check showed).
    await attempt('delete', () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    objectExists = false;
    record({ step: 'delete', status: 'ok' });

    // 8. An aborted upload: the backend aborts failed or dropped uploads.
    const aborted = await startUpload(`${key}-aborted`, 'abortUpload');
    await uploadPart(aborted, 'abortUpload', false);
    await abortUpload(aborted);
  }

  /**
   * Where deleting is denied: nothing may become a complete object, which would stay forever
   * (these buckets never expire current objects). Writes: an upload shaped like the backend's,
   * then aborted. Reads: a key that does not exist must answer 404 NoSuchKey.
   */
  async function cycleWithoutObject(): Promise<void> {
    const upload = await startUpload(key, 'createUpload');
    record({ step: 'createUpload', status: 'ok' });
    await uploadPart(upload, 'uploadPart', true);
    record({ step: 'uploadPart', status: 'ok', detail: options.checksums ? 'CRC32 checksum returned' : undefined });
    await abortUpload(upload);

    try {
      await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}-missing`, Range: 'bytes=0-15' }));
      fail('missingGet', { code: 'unexpected', setting: S3_ENDPOINT_URL, message: 'A key that was never written exists.' });
    } catch (err) {
      if (err instanceof StepFailed) {
        throw err;
      }
      if (isNotFound(err)) {
        record({
          step: 'missingGet',
          status: 'ok',
          detail: '404 NoSuchKey as expected (s3:GetObject and s3:ListBucket work; ranged reads of real data are not checked without a complete object)',
        });
      } else {
        fail('missingGet', diagnose(err, ctxFor('missingGet')), describeError(err));
      }
    }
  }

  /** CreateMultipartUpload with the backend's headers; the upload is tracked until closed. */
  async function startUpload(objectKey: string, step: ProbeStep): Promise<OpenUpload> {
    let created;
    try {
      created = await client.send(new CreateMultipartUploadCommand(createInput(objectKey)));
    } catch (err) {
      return fail(step, step === 'createUpload' ? await pinpointCreateFailure(err) : diagnose(err, ctxFor(step)), describeError(err));
    }
    if (!created.UploadId) {
      fail(step, { code: 'unexpected', setting: S3_ENDPOINT_URL, message: 'The provider returned no UploadId.' });
    }
    const upload: OpenUpload = { key: objectKey, uploadId: created.UploadId as string, parts: [] };
    open.add(upload);
    return upload;
  }

  /** UploadPart with a CRC32 checksum; the backend refuses a part answer without one. */
  async function uploadPart(upload: OpenUpload, step: ProbeStep, checkChecksum: boolean): Promise<void> {
    const part = await attempt(step, () => client.send(new UploadPartCommand(partInput(upload.key, upload.uploadId))));
    upload.parts.push({ ETag: part.ETag, PartNumber: 1, ...(part.ChecksumCRC32 ? { ChecksumCRC32: part.ChecksumCRC32 } : {}) });
    if (!checkChecksum || !options.checksums) {
      return;
    }
    if (!part.ChecksumCRC32) {
      fail(step, {
        code: 'no-checksums',
        setting: STRICT_BOOLEAN_VARS.disableChecksums,
        message:
          `The provider returns no CRC32 checksums for uploaded parts; the backend requires them ("Object part missing hash") ` +
          `unless ${STRICT_BOOLEAN_VARS.disableChecksums}=true. Set ${STRICT_BOOLEAN_VARS.disableChecksums}=true.`,
      });
    }
    if (part.ChecksumCRC32 !== bodyChecksum) {
      fail(step, {
        code: 'checksum-mismatch',
        setting: STRICT_BOOLEAN_VARS.disableChecksums,
        message: `The provider returned CRC32 ${part.ChecksumCRC32} for a part whose CRC32 is ${bodyChecksum}: its checksums cannot be trusted. Set ${STRICT_BOOLEAN_VARS.disableChecksums}=true.`,
      });
    }
  }

  /** AbortMultipartUpload, as the backend does for failed or dropped uploads. */
  async function abortUpload(upload: OpenUpload): Promise<void> {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }));
      open.delete(upload);
      record({ step: 'abortUpload', status: 'ok' });
    } catch (err) {
      if (!isAbortUnsupported(err)) {
        // Stays open: `finally` tries once more and reports what is left.
        fail('abortUpload', diagnose(err, ctxFor('abortUpload')), describeError(err));
      }
      const unsupported = `the provider does not support AbortMultipartUpload (${describeError(err)}): uploads the backend abandons will leave their parts behind`;
      if (deleteAllowed) {
        // `finally` completes this upload and deletes the result instead.
        record({
          step: 'abortUpload',
          status: 'warning',
          detail: `${unsupported}. Add an abort-incomplete-multipart-upload lifecycle rule if the provider has one`,
        });
      } else {
        // Completing it would leave an object verify may not delete: the upload stays.
        open.delete(upload);
        leftovers.push(incompleteUploadLeft(upload));
        record({
          step: 'abortUpload',
          status: 'warning',
          detail:
            `${unsupported}. So does this check's upload (see "left behind"): verify may not delete here, so it cannot ` +
            'complete the upload and delete the object instead',
        });
      }
    }
  }

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

  function incompleteUploadLeft(upload: OpenUpload): string {
    return `s3://${bucket}/${upload.key} (incomplete multipart upload ${upload.uploadId}; ${LIFECYCLE_CLEANUP})`;
  }

  /**
   * Aborts an upload; where abort is unsupported and deleting is allowed, completes it and
   * deletes the result. Where deleting is not allowed the upload is left to the lifecycle rule.
   *
   * @returns undefined when nothing is left, else a description of what is.
   */
  async function disposeUpload(upload: OpenUpload): Promise<string | undefined> {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }));
      return undefined;
    } catch {
      // Fall through: some providers (s3rver, for one) cannot abort, but can complete.
    }
    if (!deleteAllowed) {
      return incompleteUploadLeft(upload);
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
      return incompleteUploadLeft(upload);
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
