import { aws_ecs as ecs, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { MYSQL_URL, POSTGRES_URL } from '../backend-env';
import { DatabaseUrlVariable, databaseUrlParts, databaseUrlStartupScript } from '../database/database-url-script';
import type { ConvexDatabaseEngine } from './convex-backend-task-definition-props';

/**
 * A database whose URL the backend container builds at start from a credentials secret, such as
 * a `ConvexPostgres`: the task gets the username and password as container secrets, the host and
 * port as plain environment, and the CA certificates the database's TLS certificate chains to.
 */
export interface ConvexDatabaseConnection {
  /** Which database, and so which variable (`POSTGRES_URL` or `MYSQL_URL`) the URL goes into. */
  readonly engine: ConvexDatabaseEngine;
  /**
   * JSON secret with the fields `username` and `password` (an RDS master-user secret). The
   * execution role is granted read access on it (and decryption with its key, when the secret
   * knows it).
   */
  readonly credentialsSecret: secretsmanager.ISecret;
  /** Host name of the database endpoint. */
  readonly hostname: string;
  /** Port of the database endpoint, as text. */
  readonly port: string;
  /**
   * PEM certificates of the CAs the database's TLS certificate chains to, for `PG_CA_FILE` /
   * `MYSQL_CA_FILE`: the backend verifies the certificate against the image's system roots plus
   * that file, and private CAs (Amazon RDS's among them) are in no system trust store.
   */
  readonly caCertificates: string;
}

/** What the backend container needs for a {@link ConvexDatabaseConnection}. */
export interface DatabaseContainerSettings {
  /** The URL variable the start-up step exports. */
  readonly urlVariable: DatabaseUrlVariable;
  /** Host and port: plain, no secret. */
  readonly environment: Record<string, string>;
  /** Username and password, from the credentials secret. */
  readonly secrets: Record<string, ecs.Secret>;
  /** The `sh` step that builds the URL from them (see database-url-script.ts). */
  readonly startupScript: string;
}

/** Whether `database` is a connection built from parts (not a URL secret). */
export function isDatabaseConnection(database: object): database is ConvexDatabaseConnection {
  return 'credentialsSecret' in database;
}

/** The container settings of `database` (`urlVariable` is `POSTGRES_URL` or `MYSQL_URL`). */
export function databaseContainerSettings(database: ConvexDatabaseConnection, urlVariable: typeof POSTGRES_URL | typeof MYSQL_URL): DatabaseContainerSettings {
  const parts = databaseUrlParts(urlVariable);
  return {
    urlVariable,
    environment: { [parts.host]: database.hostname, [parts.port]: database.port },
    secrets: {
      [parts.username]: ecs.Secret.fromSecretsManager(database.credentialsSecret, 'username'),
      [parts.password]: ecs.Secret.fromSecretsManager(database.credentialsSecret, 'password'),
    },
    startupScript: databaseUrlStartupScript(urlVariable),
  };
}
