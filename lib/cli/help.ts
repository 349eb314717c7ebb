/**
 * `--help` texts. Kept apart from the commands so `--help` loads no AWS SDK.
 */
import {
  AWS_ACCESS_KEY_ID,
  AWS_REGION,
  AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN,
  BACKEND_OUTPUTS,
  INSTANCE_NAME,
  INSTANCE_SECRET,
  PRESENCE_FLAG_VARS,
  REQUIRED_S3_VARS,
  S3_ENDPOINT_URL,
  STRICT_BOOLEAN_VARS,
} from '../backend-env';
import { DEFAULT_INSTANCE_NAME } from '../instance-name';
import {
  EXPORT_LISTED_DAYS, LIFECYCLE_DEFAULTS, MAX_IMPORT_AGE_DAYS, STORAGE_KINDS, type StorageKind, storageKind,
} from '../storage-kinds';
import { PROVIDER_PRESETS } from './providers';

/** Why --file exists, for the help texts. */
const NODE20_ENV_FILE = `Node 20 itself also reads --env-file after
                      the script name, and exits 9 before convex-storage runs if that file is missing`;

const EXIT_CODES = `Exit codes: 0 success, 1 failure (a check failed or the command refused), 2 bad command line.`;

/** Help of the program itself. */
export const MAIN_HELP = `convex-storage: S3 storage for a self-hosted Convex backend

Usage: convex-storage <command> [options]

Commands:
  env        write the backend's .env (from the deployed stack, its outputs file, or a provider)
  verify     check a configuration the way the backend will use it (variables, then each bucket)
  provision  create the buckets of an .env on a non-AWS provider (MinIO, R2, Spaces, B2)
  admin-key  print an admin key for the deployment (derived from its INSTANCE_NAME and INSTANCE_SECRET)

Run convex-storage <command> --help (or convex-storage help <command>) for a command's options,
convex-storage --version for the version.
${EXIT_CODES}
`;

const bucketFlags = STORAGE_KINDS.map((k) => `  --${k.bucketSuffix}-bucket NAME`.padEnd(34) + `${k.envVar}`).join('\n');
const providers = Object.values(PROVIDER_PRESETS)
  .map((p) => `  ${p.name.padEnd(8)}${p.notes}`)
  .join('\n');

/** Help of `env`. */
export const ENV_HELP = `Usage:
  convex-storage env --stack NAME [--region R]              from the deployed stack (CloudFormation)
  convex-storage env --outputs-file FILE [--stack NAME]     from \`cdk deploy --outputs-file FILE\`
  convex-storage env --provider P [--endpoint URL] [--region R] (--bucket-prefix P | --bucket NAME | --<kind>-bucket NAME...)

Writes the variables the backend reads into an .env file, merged into the existing file: other
variables and comments stay in place, the new file is written atomically with mode 0600, and the
previous one is kept as <out>.bak-<YYYYMMDDTHHMMSSZ> (mode 0600; never overwritten, and not
repeated when an existing backup already holds it). When nothing would change, nothing is written.
Nothing is written if ${REQUIRED_S3_VARS.join(', ')} would be empty.

Where the data is stays put: env refuses (exit 1, nothing written) to change a non-empty
${AWS_REGION}, ${S3_ENDPOINT_URL} or S3_STORAGE_*_BUCKET already in the file. The backend does not
notice such a change; it just cannot find its objects. Pass --force only when the backend has no
data yet, or when moving it with npx convex export / npx convex import.

From a stack (name pattern ConvexStorage-<stage>): in IAM-user mode the secret access key is read
from Secrets Manager with your own AWS credentials; in role mode no keys are written (and old
ones are removed: environment keys would take precedence over the role). ${INSTANCE_NAME} is
written when the stack has one; env refuses to change a different ${INSTANCE_NAME} already in the
file (a new name strands all data; --force does not override this, remove the line instead).

Options:
  --stack NAME                    the storage stack, e.g. ConvexStorage-dev
  --outputs-file FILE             a \`cdk deploy --outputs-file\` JSON file
  --region R                      stack: the stack's region; provider: ${AWS_REGION}
  --provider P                    aws | r2 | minio | spaces | b2 (flags each provider needs are set for you)
  --endpoint URL                  ${S3_ENDPOINT_URL} (required for r2 and minio)
  --bucket-prefix PREFIX          bucket names PREFIX-<kind>: ${STORAGE_KINDS.map((k) => k.bucketSuffix).join(', ')}
  --bucket NAME                   one bucket for all five kinds (not with --bucket-prefix or --<kind>-bucket)
${bucketFlags}
                                  (a --<kind>-bucket flag overrides that kind's --bucket-prefix name;
                                  names must follow the S3 rules: 3-63 lowercase letters, digits, dots, hyphens)
  --role                          aws: the backend uses an IAM role, write no keys
  --kms                           aws: the buckets use SSE-KMS (writes ${STRICT_BOOLEAN_VARS.disableSse}=true)
  --out PATH                      file to write (default .env)
  --print                         print the variables to stdout instead of writing
  --show-secrets                  with --print: do not mask ${AWS_SECRET_ACCESS_KEY} / ${AWS_SESSION_TOKEN}
  --force                         change ${AWS_REGION}, ${S3_ENDPOINT_URL} or bucket names already in the file
  -h, --help                      this help

Providers (credentials come from ${AWS_ACCESS_KEY_ID} / ${AWS_SECRET_ACCESS_KEY} in your environment:
use the key made for the backend, never your own):
${providers}

${EXIT_CODES}
`;

/** Help of `verify`. */
export const VERIFY_HELP = `Usage: convex-storage verify [--file PATH | --process-env] [--file-only] [--timeout SECONDS] [--json]

Checks a configuration the way the backend will use it:
  0. the file's lines, as docker compose (the loader of the backend's .env) reads them: a line
     that is not NAME=value, one without a name, or a quote never closed is listed with its
     line number, and nothing is probed until it is fixed;
  1. the variables: ${REQUIRED_S3_VARS.join(', ')}
     set (else the backend silently uses local disk);
     ${Object.values(STRICT_BOOLEAN_VARS).join(', ')} exactly true or false;
     ${Object.values(PRESENCE_FLAG_VARS).join(', ')} not set to false (any value switches them on);
     an http:// ${S3_ENDPOINT_URL} warns: Node actions with externalPackages cannot upload to it
     (the backend's Node executor uploads them only to https: URLs);
  2. each bucket, concurrently, with the backend's own S3 settings. First a delete of a key that
     does not exist tells whether these credentials may delete there (nothing is created). If so:
     a multipart upload (SSE header and CRC32 part checksums unless disabled), a ranged read, a
     head, a head of a missing key (needs s3:ListBucket), the delete of the probe, an aborted
     upload. If not (least privilege allows s3:DeleteObject on the exports bucket only): no
     complete object is written; an upload shaped like the backend's is aborted, and a read of a
     missing key must answer 404. A denied delete fails only where the backend deletes (exports).
     Probe keys are <${INSTANCE_NAME}>-<random uuid>/convex-storage-verify-<uuid> when ${INSTANCE_NAME}
     is set (the key shape a narrowed access policy allows), else convex-storage-verify/<uuid>;
     they are removed even when a step fails. Where the provider cannot abort and deleting is
     denied, the incomplete upload is listed; the abort-incomplete-multipart-upload lifecycle
     rule (${LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays} days in the CDK construct) removes it.
Each failure names the setting to change. Progress goes to stderr, the result to stdout.

Options:
  --file PATH         the backend's .env (default .env)
  --env-file PATH     the same, but on Node 20 use --file: ${NODE20_ENV_FILE}
  --process-env       check this process's environment instead of a file
  --file-only         check the variables only, make no request
  --timeout SECONDS   bound on connecting and on each answer (default 5)
  --json              machine-readable result on stdout (for CI)
  -h, --help          this help

Credentials: the keys in the configuration when it has both, else this machine's default AWS
credential chain (it reads ${AWS_ACCESS_KEY_ID}/${AWS_SECRET_ACCESS_KEY} of this process's
environment first; the progress line says which keys were used), with a warning: a pass then
proves the buckets and settings, not the backend role's permissions (run verify where the
backend runs, or with the role's credentials).
${EXIT_CODES}
`;

/** The retention `provision` gives the current objects of `kind` (the construct's default). */
function defaultRetentionDays(kind: StorageKind): number {
  const expiry = storageKind(kind).currentObjects;
  return expiry.expires ? expiry.defaultDays : 0;
}

/** Help of `provision`. */
export const PROVISION_HELP = `Usage: convex-storage provision [--file PATH | --process-env] [--timeout SECONDS] [--json]

For S3-compatible providers that CDK does not reach (MinIO, R2, Spaces, B2): creates the buckets
the .env names (${S3_ENDPOINT_URL} must be set) when missing, enables versioning, and sets the same
lifecycle rules as the CDK construct (abort incomplete uploads, expire noncurrent versions and
expired delete markers, expire current exports after ${defaultRetentionDays('exports')} days, as the backend keeps an export
listed and downloadable for about ${EXPORT_LISTED_DAYS}, and imports after ${defaultRetentionDays('snapshotImports')}, as it may read one for ${MAX_IMPORT_AGE_DAYS};
never current files, modules or search indexes). Other lifecycle rules on the buckets are kept.
Says plainly what the provider does not support. Safe to run again. On AWS use \`cdk deploy\`
instead; provision refuses to run there.

Use credentials allowed to create and configure buckets (often not the backend's own key).

Options:
  --file PATH         the backend's .env (default .env)
  --env-file PATH     the same, but on Node 20 use --file: ${NODE20_ENV_FILE}
  --process-env       read the settings from this process's environment
  --timeout SECONDS   bound on connecting and on each answer (default 5)
  --json              machine-readable result on stdout
  -h, --help          this help
${EXIT_CODES}
`;

/** Help of `admin-key`. */
export const ADMIN_KEY_HELP = `Usage:
  convex-storage admin-key --stack NAME [--region R] [--read-only]
  convex-storage admin-key --instance-name NAME --instance-secret-file PATH [--read-only]
  convex-storage admin-key --env-file PATH [--instance-name NAME] [--read-only]
  convex-storage admin-key --process-env [--instance-name NAME] [--read-only]

Prints an admin key for the deployment, derived on this machine from its ${INSTANCE_NAME} and
${INSTANCE_SECRET} exactly as the backend's ./generate_admin_key.sh would issue it: no shell in
the container, no ECS Exec. stdout carries the key and nothing else, so this works:

  export CONVEX_SELF_HOSTED_URL=https://api.convex.example.com
  CONVEX_SELF_HOSTED_ADMIN_KEY=$(npx convex-storage admin-key --stack ConvexStorage-prod) npx convex deploy

Every message goes to stderr. The key never expires; only a new ${INSTANCE_SECRET} revokes it
(and every other key with it), so keep it like a password and out of shell history and logs.

Sources (pass exactly one):
  --stack NAME                  the deployed stack with the backend's task definition: reads its
                                outputs ${BACKEND_OUTPUTS.instanceName} and ${BACKEND_OUTPUTS.instanceSecretArn}, then the
                                secret from Secrets Manager with your own AWS credentials
                                (secretsmanager:GetSecretValue, and kms:Decrypt with a customer key)
  --instance-secret-file PATH   a file holding the 64 hex characters (surrounding whitespace is
                                ignored); needs --instance-name
  --env-file PATH               ${INSTANCE_NAME} and ${INSTANCE_SECRET} from a .env file (alias --file;
                                on Node 20 use --file: ${NODE20_ENV_FILE})
  --process-env                 ${INSTANCE_NAME} and ${INSTANCE_SECRET} from this process's environment

Options:
  --instance-name NAME          the deployment's ${INSTANCE_NAME}; with --env-file or --process-env it
                                fills in a missing one and must match one that is set (default there:
                                ${DEFAULT_INSTANCE_NAME}, the image's default)
  --region R                    --stack: the stack's region (default ${AWS_REGION})
  --read-only                   a read-only key: queries and reads, no deploys, mutations or writes
  -h, --help                    this help

${INSTANCE_SECRET} must be exactly 64 hex characters (32 bytes), either case, optionally prefixed
with 0x, as the backend reads it.
${EXIT_CODES}
`;
