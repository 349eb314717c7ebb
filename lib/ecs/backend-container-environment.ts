/**
 * The backend container's environment and secrets: what the backend reads, from the storage, the
 * props and Secrets Manager. Secret values only ever travel as container secrets.
 */
import { Stack, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import {
  CONVEX_CLOUD_ORIGIN, CONVEX_SITE_ORIGIN, DISABLE_METRICS_ENDPOINT, INSTANCE_NAME, INSTANCE_SECRET, MYSQL_URL, POSTGRES_URL,
  PRESENCE_FLAG_VARS, strictBoolean,
} from '../backend-env';
import { ConvexBackendTaskDefinitionProps, ConvexDatabaseEngine } from './convex-backend-task-definition-props';
import { ConvexDatabaseConnection, databaseContainerSettings, isDatabaseConnection } from './database-connection';
import { DATABASE_CA_BUNDLE_VARIABLE } from './entrypoint/database-ca-bundle';

/** The plain environment of the backend container: nothing in it is secret. */
export function backendContainerEnvironment(props: ConvexBackendTaskDefinitionProps, resolved: {
  readonly storageEnvironment: Readonly<Record<string, string>>;
  readonly instanceName: string;
  readonly cloudOrigin: string;
  readonly siteOrigin: string;
}): Record<string, string> {
  const environment: Record<string, string> = {
    ...resolved.storageEnvironment,
    [INSTANCE_NAME]: resolved.instanceName,
    [CONVEX_CLOUD_ORIGIN]: resolved.cloudOrigin,
    [CONVEX_SITE_ORIGIN]: resolved.siteOrigin,
    // The image serves /metrics without authentication on the API port unless this is `true`.
    [DISABLE_METRICS_ENDPOINT]: strictBoolean(props.metricsEndpoint !== true),
  };
  // Any non-empty value switches these on, `false` included: set them only when wanted.
  const flags: Array<[boolean | undefined, string]> = [
    [props.disableBeacon, PRESENCE_FLAG_VARS.disableBeacon],
    [props.redactLogsToClient, PRESENCE_FLAG_VARS.redactLogsToClient],
    [props.doNotRequireSsl, PRESENCE_FLAG_VARS.doNotRequireSsl],
  ];
  for (const [on, variable] of flags) {
    if (on === true) environment[variable] = 'true';
  }
  // A connection's host and port; its user and password are secrets (backendContainerSecrets).
  const connection = databaseConnectionOf(props);
  if (connection) Object.assign(environment, databaseContainerSettings(connection, databaseUrlVariable(props)).environment);
  // Public certificates, written to a file by the entrypoint wrapper (databaseCaFileStep).
  const caBundle = databaseCaBundleOf(props);
  if (caBundle !== undefined) environment[DATABASE_CA_BUNDLE_VARIABLE] = caBundle;
  return environment;
}

/**
 * The backend container's secrets: `INSTANCE_SECRET`, and the database URL when a database is
 * given (with `kms:Decrypt` for the execution role when its secret has a customer-managed key).
 */
export function backendContainerSecrets(scope: IConstruct, props: ConvexBackendTaskDefinitionProps, instanceSecret: secretsmanager.ISecret, executionRole: iam.IRole): Record<string, ecs.Secret> {
  const secrets: Record<string, ecs.Secret> = {
    [INSTANCE_SECRET]: ecs.Secret.fromSecretsManager(instanceSecret, props.instanceSecretField),
  };
  const database = props.database;
  if (database && isDatabaseConnection(database)) {
    // The URL's parts: the container's start-up step joins them (databaseUrlStartupScript).
    Object.assign(secrets, databaseContainerSettings(database, databaseUrlVariable(props)).secrets);
  } else if (database) {
    secrets[databaseUrlVariable(props)] = ecs.Secret.fromSecretsManager(database.urlSecret, database.urlSecretField);
    const key = database.urlSecretEncryptionKey;
    if (key) {
      grantDecryptThroughSecretsManager(executionRole, key, database.urlSecret.env.region, Stack.of(scope).urlSuffix);
    }
  }
  return secrets;
}

/** The variable the backend reads its database URL from: `MYSQL_URL` or `POSTGRES_URL`. */
export function databaseUrlVariable(props: ConvexBackendTaskDefinitionProps): typeof POSTGRES_URL | typeof MYSQL_URL {
  return props.database?.engine === ConvexDatabaseEngine.MYSQL ? MYSQL_URL : POSTGRES_URL;
}

/** The database, when it is a connection whose URL the container builds (a `ConvexPostgres`). */
export function databaseConnectionOf(props: ConvexBackendTaskDefinitionProps): ConvexDatabaseConnection | undefined {
  return props.database && isDatabaseConnection(props.database) ? props.database : undefined;
}

/** The CA bundle the container gets: `databaseCaBundle`, else the connection's certificates. */
export function databaseCaBundleOf(props: ConvexBackendTaskDefinitionProps): string | undefined {
  return props.databaseCaBundle ?? databaseConnectionOf(props)?.caCertificates;
}

/** Lets `role` decrypt with `key`, in its own policy, only through Secrets Manager in `region`. */
export function grantDecryptThroughSecretsManager(role: iam.IRole, key: kms.IKey, region: string, urlSuffix: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.${urlSuffix}` } },
  }));
}
