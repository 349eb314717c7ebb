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
  // Public certificates, written to a file by the entrypoint wrapper (databaseCaFileStep).
  if (props.databaseCaBundle !== undefined) environment[DATABASE_CA_BUNDLE_VARIABLE] = props.databaseCaBundle;
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
  if (props.database) {
    const variable = props.database.engine === ConvexDatabaseEngine.MYSQL ? MYSQL_URL : POSTGRES_URL;
    secrets[variable] = ecs.Secret.fromSecretsManager(props.database.urlSecret, props.database.urlSecretField);
    const key = props.database.urlSecretEncryptionKey;
    if (key) {
      grantDecryptThroughSecretsManager(executionRole, key, props.database.urlSecret.env.region, Stack.of(scope).urlSuffix);
    }
  }
  return secrets;
}

/** Lets `role` decrypt with `key`, in its own policy, only through Secrets Manager in `region`. */
export function grantDecryptThroughSecretsManager(role: iam.IRole, key: kms.IKey, region: string, urlSuffix: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.${urlSuffix}` } },
  }));
}
