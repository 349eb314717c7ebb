/**
 * The one table of storage providers `convex-storage env --provider` knows, and the backend
 * settings each one needs. Every flag cites why it is set; a flag left undefined is removed from
 * the `.env` (unset), which is what the backend's defaults assume.
 */

/** A provider name accepted by `--provider`. */
export type ProviderName = 'aws' | 'r2' | 'minio' | 'spaces' | 'b2';

/** The settings one provider needs. */
export interface ProviderPreset {
  readonly name: ProviderName;
  /** Shown in messages and `--help`. */
  readonly title: string;
  /** `AWS_REGION` when `--region` is not given; undefined means `--region` is required. */
  readonly defaultRegion?: string;
  /**
   * Builds `S3_ENDPOINT_URL` when `--endpoint` is not given. Undefined: `--endpoint` is
   * required (or, for AWS, forbidden: the SDK derives the endpoint from the region).
   */
  readonly endpointFor?: (region: string) => string;
  /** Whether the provider has an endpoint of its own (everything but AWS). */
  readonly customEndpoint: boolean;
  /** What `--endpoint` looks like, for the error when it is missing. */
  readonly endpointExample?: string;
  /** `AWS_S3_FORCE_PATH_STYLE=true` when set. */
  readonly forcePathStyle?: true;
  /** `AWS_S3_DISABLE_SSE=true` when set. */
  readonly disableSse?: true;
  /** `AWS_S3_DISABLE_CHECKSUMS=true` when set. */
  readonly disableChecksums?: true;
  /** Why the flags are what they are, printed by `env` so the user can check. */
  readonly notes: string;
}

/** The presets, one per provider. */
export const PROVIDER_PRESETS: Readonly<Record<ProviderName, ProviderPreset>> = {
  aws: {
    name: 'aws',
    title: 'AWS S3',
    customEndpoint: false,
    // AWS S3 accepts the AES256 SSE header and returns CRC32 part checksums, so all
    // AWS_S3_* flags stay unset (facts file: "On AWS S3 leave AWS_S3_DISABLE_CHECKSUMS unset").
    notes: 'AWS S3 needs no AWS_S3_* flags. Prefer `cdk deploy` plus `convex-storage env --stack`.',
  },
  r2: {
    name: 'r2',
    title: 'Cloudflare R2',
    // R2's S3 API docs: "the region for an R2 bucket is auto"; the Convex docs use AWS_REGION='auto'.
    defaultRegion: 'auto',
    customEndpoint: true,
    endpointExample: 'https://<account-id>.r2.cloudflarestorage.com',
    // The Convex docs' R2 example sets path style ("required for Cloudflare R2").
    forcePathStyle: true,
    // R2 supports COMPOSITE CRC32 checksums for multipart uploads (R2 S3 API compatibility
    // page), which is what the backend sends, so checksums stay on. Known gap, not a flag:
    // exports can fail with InvalidPart (unequal part sizes, upstream issue #395).
    notes: 'R2: region auto, path style. Exports may fail with InvalidPart (upstream issue #395).',
  },
  minio: {
    name: 'minio',
    title: 'MinIO',
    // MinIO ignores the region unless configured with one; the Convex docs use us-east-1.
    defaultRegion: 'us-east-1',
    customEndpoint: true,
    endpointExample: 'http://host.docker.internal:9000',
    // Convex docs' MinIO example: path style (buckets are not DNS names on a self-hosted server)
    // and AWS_S3_DISABLE_SSE=true (MinIO rejects the AES256 header unless a KMS is configured).
    forcePathStyle: true,
    disableSse: true,
    notes: 'MinIO: path style, SSE header off (MinIO rejects it without a configured KMS).',
  },
  spaces: {
    name: 'spaces',
    title: 'DigitalOcean Spaces',
    customEndpoint: true,
    // Spaces endpoints are https://<region>.digitaloceanspaces.com (e.g. nyc3).
    endpointFor: (region) => `https://${region}.digitaloceanspaces.com`,
    endpointExample: 'https://nyc3.digitaloceanspaces.com',
    // Facts file / upstream issue #85: Spaces answers without part checksums
    // ("Object part missing hash"), so the backend must not ask for them.
    disableChecksums: true,
    notes: 'Spaces: checksums off (upstream issue #85, "Object part missing hash").',
  },
  b2: {
    name: 'b2',
    title: 'Backblaze B2',
    customEndpoint: true,
    // B2's S3-compatible endpoints are https://s3.<region>.backblazeb2.com (e.g. us-west-004).
    endpointFor: (region) => `https://s3.${region}.backblazeb2.com`,
    endpointExample: 'https://s3.us-west-004.backblazeb2.com',
    // B2 supports SSE-B2 through the same AES256 header and virtual-hosted addressing; no flag
    // is documented as required. Its checksum support is not covered by the facts file:
    // `convex-storage verify` tells, and says to set AWS_S3_DISABLE_CHECKSUMS=true if needed.
    notes: 'B2: no flags documented as required; run `convex-storage verify` to confirm checksums.',
  },
};

/** The accepted `--provider` values, for messages. */
export const PROVIDER_NAMES = Object.keys(PROVIDER_PRESETS) as ProviderName[];

/** Looks up a preset by a user-typed name. */
export function providerPreset(name: string): ProviderPreset | undefined {
  return (PROVIDER_PRESETS as Record<string, ProviderPreset | undefined>)[name.toLowerCase()];
}
