/**
 * The start-up step that builds the backend's database URL inside the container.
 *
 * The backend reads `POSTGRES_URL` (or `MYSQL_URL`) once, at start, as
 * `<scheme>://<user>:<password>@<host>:<port>` with no path and no query (it appends the database
 * named after `INSTANCE_NAME` and `sslmode=require` itself: `crates/clusters/src/lib.rs`). The
 * password lives in Secrets Manager: ECS injects the username and password as container secrets,
 * the host and port come as plain environment, and this POSIX `sh` step joins them, so the
 * password is never in the task definition, a template, an output or a log line. User and
 * password are percent-encoded (the backend's URL parser decodes them), so a password set by
 * hand with any characters still works. No aws-cdk-lib import: the tests run this text under `sh`.
 */

/** The URL variables the backend reads, with the scheme each one takes. */
export const DATABASE_URL_SCHEMES = { POSTGRES_URL: 'postgres', MYSQL_URL: 'mysql' } as const;

/** A database URL variable of the backend. */
export type DatabaseUrlVariable = keyof typeof DATABASE_URL_SCHEMES;

/** The container variables the start-up step reads to build `urlVariable`. */
export interface DatabaseUrlParts {
  /** The user name (a container secret: JSON field `username` of the credentials secret). */
  readonly username: string;
  /** The password (a container secret: JSON field `password` of the credentials secret). */
  readonly password: string;
  /** The database endpoint's host name (plain environment). */
  readonly host: string;
  /** The database endpoint's port (plain environment). */
  readonly port: string;
}

/**
 * Names of the variables the step reads for `urlVariable`, e.g. `POSTGRES_URL_PASSWORD`. They
 * are unset once the URL is built, so the backend's process tree sees the password only in the
 * URL it needs. (Not `PG*`: those names mean something to libpq-based tools.)
 */
export function databaseUrlParts(urlVariable: DatabaseUrlVariable): DatabaseUrlParts {
  return {
    username: `${urlVariable}_USERNAME`,
    password: `${urlVariable}_PASSWORD`,
    host: `${urlVariable}_HOST`,
    port: `${urlVariable}_PORT`,
  };
}

/** Characters that stand for themselves in a URL's user and password: RFC 3986 "unreserved". */
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-';

/**
 * The POSIX `sh` text that exports `urlVariable` from its parts (see {@link databaseUrlParts}),
 * or exits 1 with a message naming the missing part (never a value). It defines one function,
 * `convex_url_encode`, and leaves no other variable behind.
 */
export function databaseUrlStartupScript(urlVariable: DatabaseUrlVariable): string {
  const parts = databaseUrlParts(urlVariable);
  const scheme = DATABASE_URL_SCHEMES[urlVariable];
  const checks = Object.values(parts).map((name) =>
    `[ -n "\${${name}-}" ] || { echo "convex-backend start-up: ${name} is empty, so ${urlVariable} cannot be built; check the task definition's secrets and environment." >&2; exit 1; }`);
  return [
    `# ${urlVariable} from the parts ECS injects (user and password from Secrets Manager).`,
    '# Byte by byte in the C locale: unreserved characters as they are, all others as %XX.',
    'convex_url_encode() (',
    '  LC_ALL=C',
    '  rest=$1',
    '  while [ -n "$rest" ]; do',
    '    tail=${rest#?}',
    '    char=${rest%"$tail"}',
    '    case $char in',
    `      [${UNRESERVED}]) printf '%s' "$char" ;;`,
    `      *) printf '%%%02X' "'$char" ;;`,
    '    esac',
    '    rest=$tail',
    '  done',
    ')',
    ...checks,
    `${urlVariable}="${scheme}://$(convex_url_encode "$${parts.username}"):$(convex_url_encode "$${parts.password}")@$${parts.host}:$${parts.port}"`,
    `export ${urlVariable}`,
    `unset ${Object.values(parts).join(' ')}`,
    '',
  ].join('\n');
}
