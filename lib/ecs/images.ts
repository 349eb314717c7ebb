/**
 * The container images of the self-hosted Convex backend and dashboard, and how a version of
 * them is written.
 */

/** Repository of the backend image. */
export const BACKEND_IMAGE_REPOSITORY = 'ghcr.io/get-convex/convex-backend';

/** Repository of the dashboard image; keep it on the same version as the backend. */
export const DASHBOARD_IMAGE_REPOSITORY = 'ghcr.io/get-convex/convex-dashboard';

/**
 * The backend (and dashboard) version used when none is given: a full commit SHA, which is how
 * upstream tags every image it publishes.
 *
 * Why this commit: upstream builds and pushes both images, tagged with the commit SHA, on every
 * push to its `release` branch (`.github/workflows/release_self_hosted_images.yml`). This is the
 * head of `release` in the upstream snapshot of 2026-08-22 (committed 2026-08-21, also tagged
 * `precompiled-2026-08-22-652b828`). It descends from `ca1f91cde` (2026-04-09), the change that
 * stopped the entrypoint from requiring `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` before it
 * switches on S3 storage; older images silently keep data on local disk when run with a task
 * role and no keys. Bump it deliberately (read upstream's self-hosted upgrade notes first), never
 * to `latest`.
 */
export const DEFAULT_CONVEX_IMAGE_TAG = '652b828b5129e6cdbcaa3c20efa8d116d09ff3bf';

/** The moving tag that upstream points at a recent release. */
export const LATEST_TAG = 'latest';

/** A full commit SHA: the tag upstream gives every image it publishes. */
const COMMIT_TAG_PATTERN = /^[0-9a-f]{40}$/;
const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** The accepted forms of an image version, in words, for error messages and docs. */
export const IMAGE_VERSION_FORMS = `a full 40-character commit SHA in lowercase hex (how upstream tags every image, e.g. ${DEFAULT_CONVEX_IMAGE_TAG}), a digest 'sha256:' followed by 64 lowercase hex characters, or '${LATEST_TAG}' (with a warning)`;

/** Whether `version` is an image digest (`sha256:` and 64 lowercase hex characters). */
export function isImageDigest(version: string): boolean {
  return DIGEST_PATTERN.test(version);
}

/**
 * Problems with an image version given as `prop`. Upstream publishes the backend and dashboard
 * images under the full commit SHA and `latest` only, so anything else (`v1.2`, a short SHA, a
 * repository reference) names no image and is rejected with the accepted forms.
 */
export function imageVersionProblems(prop: string, version: string): string[] {
  if (version.startsWith('sha256:')) {
    return isImageDigest(version) ? [] : [`${prop} '${version}' is not a valid image digest: expected 'sha256:' followed by 64 lowercase hex characters.`];
  }
  if (version === LATEST_TAG || COMMIT_TAG_PATTERN.test(version)) return [];
  const hint = /^[0-9a-fA-F]{7,39}$/.test(version) ? ' A short SHA is not a tag: give all 40 characters.'
    : /^[0-9A-F]{40}$/i.test(version) ? ' Tags are case-sensitive: write the SHA in lowercase.'
      : version.includes(':') || version.includes('/') ? ' Give the tag alone, without the repository or \':\'.' : '';
  return [`${prop} '${version}' is not a version upstream publishes: expected ${IMAGE_VERSION_FORMS}.${hint}`];
}

/** The image reference for a repository and a tag or digest. */
export function imageReference(repository: string, version: string): string {
  return isImageDigest(version) ? `${repository}@${version}` : `${repository}:${version}`;
}
