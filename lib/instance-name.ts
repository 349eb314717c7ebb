/**
 * The backend's `INSTANCE_NAME`, and the names it accepts.
 *
 * The backend does not validate the name itself (read from `get-convex/convex-backend`: the
 * image's `read_credentials.sh` defaults it to `convex-self-hosted`, and `convex-local-backend`
 * takes any `--instance-name`), but uses it in places that break on unusual characters:
 *
 * - S3 keys: at first boot in S3 mode the backend stores the key prefix
 *   `<INSTANCE_NAME>-<uuid>/` in its database (`database_globals`) and refuses to start when a
 *   later name does not match it. The access policy narrows object ARNs to
 *   `<bucket>/<INSTANCE_NAME>-*`, where `*`, `?` and `${` would be IAM wildcards or variables.
 * - Database name: with `POSTGRES_URL` or `MYSQL_URL` the backend uses the database named after
 *   the instance with `-` turned into `_` (`crates/clusters`). MySQL queries name it unquoted
 *   (`@db_name.documents`), so it must be a plain identifier; Postgres and MySQL cut names at
 *   63 and 64 characters; unquoted SQL folds case, so `CREATE DATABASE` of a mixed-case name
 *   creates a different database than the one the backend opens.
 * - Admin keys: `<INSTANCE_NAME>|<encrypted part>`, split at the first `|`, and a `:` in
 *   the name is read as a `prod:`/`dev:` type prefix.
 *
 * The name must never change for a deployment: it seeds the S3 key prefix and names the
 * database. No aws-cdk-lib import: the CLI and the ECS task definition share this module.
 */

/** The name the self-hosted image uses when `INSTANCE_NAME` is not set. */
export const DEFAULT_INSTANCE_NAME = 'convex-self-hosted';

/** Longest name whose database name (`-` -> `_`) Postgres keeps uncut (63 bytes). */
export const MAX_INSTANCE_NAME_LENGTH = 63;

const INSTANCE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

/**
 * Why `name` is not a safe `INSTANCE_NAME`, one sentence per broken rule; empty when it is.
 * Callers should skip CDK tokens (unresolved values), which cannot be checked at synth time.
 */
export function instanceNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length === 0) {
    return ['is empty; the backend needs a name (the image defaults to convex-self-hosted)'];
  }
  if (name.length > MAX_INSTANCE_NAME_LENGTH) {
    problems.push(`is ${name.length} characters long; at most ${MAX_INSTANCE_NAME_LENGTH} are allowed, because the backend's database name (the instance name with - turned into _) would be cut by Postgres`);
  }
  if (!/^[a-z]/.test(name)) {
    problems.push('must start with a lowercase letter (its database name must be a plain, lowercase SQL identifier: unquoted SQL folds case and rejects a leading hyphen)');
  }
  const bad = [...new Set(name.replace(/[a-z0-9-]/g, ''))];
  if (bad.length > 0) {
    problems.push(`contains ${bad.map((c) => `'${c}'`).join(', ')}; use only lowercase letters, digits and hyphens (the name becomes an S3 key prefix, an IAM resource pattern, an unquoted SQL database name and the part of the admin key before '|')`);
  }
  if (problems.length === 0 && !INSTANCE_NAME_PATTERN.test(name)) {
    problems.push('must be lowercase letters, digits and hyphens, starting with a letter');
  }
  return problems;
}

/** The database name the backend opens for this instance name (`-` becomes `_`). */
export function instanceDatabaseName(name: string): string {
  return name.replace(/-/g, '_');
}
