/**
 * Database CA certificates for the backend: a start-up step of the entrypoint wrapper writes a
 * PEM bundle, received in an environment variable, to a file in the container and points
 * `PG_CA_FILE` and `MYSQL_CA_FILE` at it.
 *
 * Why: the backend verifies database TLS against the image's system roots plus the file named by
 * `PG_CA_FILE` (Postgres, `crates/postgres/src/lib.rs`) or `MYSQL_CA_FILE` (MySQL). A database
 * whose certificate chains to a private CA, as Amazon RDS's do, needs that CA in such a file.
 *
 * No aws-cdk-lib here (node:crypto only).
 */
import { X509Certificate } from 'node:crypto';
import { MYSQL_CA_FILE, PG_CA_FILE } from '../../backend-env';
import { EntrypointStep, shellQuote } from './backend-entrypoint';

/**
 * The environment variable that carries the PEM bundle to the wrapper. CA certificates are
 * public, so a plain environment variable is fine; the step unsets it before the backend starts.
 */
export const DATABASE_CA_BUNDLE_VARIABLE = 'CONVEX_ENTRYPOINT_DATABASE_CA_BUNDLE';

/**
 * Where the step writes the bundle: beside the image's files, outside `/convex/data` (that may
 * be a persistent volume, and the bundle comes from the task definition at every start).
 */
export const DATABASE_CA_FILE_PATH = '/convex/database-ca-bundle.pem';

/**
 * The largest bundle accepted, in characters. ECS limits a whole task definition to 64 KiB and
 * the bundle travels inside it; a region's Amazon RDS bundle is about 6 KB, the global one
 * (every region, about 180 KB) does not fit.
 */
export const MAX_DATABASE_CA_BUNDLE_LENGTH = 32 * 1024;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * The start-up step that writes the bundle in {@link DATABASE_CA_BUNDLE_VARIABLE} to `file` and
 * exports `PG_CA_FILE` and `MYSQL_CA_FILE` with its path (the backend reads the one of its
 * database engine). It fails the start when the variable is empty.
 *
 * @param file where to write the bundle (tests give a temporary file)
 */
export function databaseCaFileStep(file: string = DATABASE_CA_FILE_PATH): EntrypointStep {
  const path = shellQuote(file);
  return {
    description: `write the database CA bundle to ${file}`,
    script: [
      `: "\${${DATABASE_CA_BUNDLE_VARIABLE}:?is empty: the task definition passes the database CA bundle in it}"`,
      `printf '%s\\n' "$${DATABASE_CA_BUNDLE_VARIABLE}" > ${path}`,
      `unset ${DATABASE_CA_BUNDLE_VARIABLE}`,
      `export ${PG_CA_FILE}=${path} ${MYSQL_CA_FILE}=${path}`,
    ].join('\n'),
  };
}

/**
 * Problems with a database CA bundle given as `prop`: it must be PEM text of one or more
 * `CERTIFICATE` blocks that parse as X.509, hold no private key or other PEM block, and fit in
 * the task definition.
 */
export function databaseCaBundleProblems(prop: string, pem: string): string[] {
  const problems: string[] = [];
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (/PRIVATE KEY-----/.test(pem)) {
    problems.push(`${prop} holds a private key: the bundle is stored in the task definition in clear text and must hold only the CA certificates (-----BEGIN CERTIFICATE----- blocks). Remove the key, and treat it as exposed if it was committed.`);
  }
  if (blocks.length === 0) {
    problems.push(`${prop} holds no PEM certificate: expected one or more -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- blocks (for Amazon RDS, the bundle of your database's region from https://truststore.pki.rds.amazonaws.com/).`);
  }
  blocks.forEach((block, index) => {
    const [text, label] = block;
    if (label !== 'CERTIFICATE') {
      if (!label.endsWith('PRIVATE KEY')) problems.push(`${prop}: PEM block ${index + 1} is a '${label}', not a CERTIFICATE; give only CA certificates.`);
      return;
    }
    try {
      new X509Certificate(text);
    } catch {
      problems.push(`${prop}: certificate ${index + 1} is not a valid X.509 certificate (its base64 text may be cut or altered); copy the bundle again from its source.`);
    }
  });
  if (pem.length > MAX_DATABASE_CA_BUNDLE_LENGTH) {
    problems.push(`${prop} is ${pem.length} characters, more than the ${MAX_DATABASE_CA_BUNDLE_LENGTH} that fit in an ECS task definition (64 KiB in all): give the CA certificates of your database only (for Amazon RDS, the bundle of its region, not the global bundle).`);
  }
  return problems;
}
