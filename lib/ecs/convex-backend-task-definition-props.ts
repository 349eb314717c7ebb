/**
 * The properties of `ConvexBackendTaskDefinition` and the storage and database shapes it
 * takes, apart from the construct so each file stays about one concern.
 */
import type { ConvexDatabaseConnection } from './database-connection';
import type { EntrypointStep } from './entrypoint/backend-entrypoint';
import { Duration, RemovalPolicy, aws_ec2 as ec2, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';

/**
 * What the task definition needs from the storage: satisfied by `ConvexStorage`, or by your own
 * object when the buckets live elsewhere.
 */
export interface ConvexBackendStorage {
  /**
   * The backend's storage environment by exact variable name: `AWS_REGION`, the five
   * `S3_STORAGE_*_BUCKET`, in KMS mode `AWS_S3_DISABLE_SSE=true`, and `INSTANCE_NAME` when the
   * storage is narrowed to one. Access keys in it are dropped: the task role is used.
   */
  readonly backendEnvironment: Readonly<Record<string, string>>;
  /**
   * The buckets' KMS key in KMS mode; it then also encrypts the secret, the volume and the logs.
   *
   * @default - no customer-managed key (SSE-S3): AWS managed keys encrypt the secret and volume
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The instance name the storage's access policy is narrowed to. When set, the task's
   * `INSTANCE_NAME` must be the same (and so must `INSTANCE_NAME` in `backendEnvironment`).
   *
   * @default - the policy is not narrowed to an instance name
   */
  readonly instanceName?: string;
  /** Attaches the backend's access policy to `grantee` (here: the task role). */
  grantBackendAccess(grantee: iam.IGrantable): unknown;
  /**
   * Denies `principal` every storage request that does not arrive through one of the S3 gateway
   * VPC endpoints `vpcEndpointIds` (`ConvexStorage` does it in its bucket policies). Called by
   * `ConvexBackend` for its task role when it creates the VPC; storage without it is not restricted.
   */
  restrictBackendToVpcEndpoints?(principal: iam.IRole, vpcEndpointIds: readonly string[]): void;
}

/** The SQL databases the backend supports besides SQLite. */
export enum ConvexDatabaseEngine {
  /** `POSTGRES_URL`. */
  POSTGRES = 'postgres',
  /** `MYSQL_URL`. */
  MYSQL = 'mysql',
}

/** An external database for the backend. */
export interface ConvexDatabase {
  /** Which database, and so which variable (`POSTGRES_URL` or `MYSQL_URL`) the URL goes into. */
  readonly engine: ConvexDatabaseEngine;
  /**
   * Secret holding the connection URL *without* a database name, e.g.
   * `postgres://user:password@host:5432`. The backend opens the database named after
   * `INSTANCE_NAME` with `-` turned into `_`; it must exist.
   *
   * The execution role is granted `secretsmanager:GetSecretValue` on it. Import a secret by its
   * complete ARN (`Secret.fromSecretCompleteArn`): a partial ARN is granted with a wildcard and
   * injected as given. If the secret is encrypted with a customer-managed KMS key, give that key
   * as `urlSecretEncryptionKey` too, or the task fails to start.
   */
  readonly urlSecret: secretsmanager.ISecret;
  /**
   * The customer-managed KMS key that encrypts `urlSecret`: the execution role is granted
   * `kms:Decrypt` on it through Secrets Manager (`kms:ViaService`). Its key policy must let IAM
   * policies of the account use it, as the default key policy does. (A grant on the secret alone
   * reaches only the policy of a key defined in this app, never an imported one.)
   *
   * @default - none: the secret is encrypted with the AWS managed key `aws/secretsmanager`
   */
  readonly urlSecretEncryptionKey?: kms.IKey;
  /**
   * JSON field of the secret that holds the URL.
   *
   * @default - the whole secret value is the URL
   */
  readonly urlSecretField?: string;
}

/** Properties of `ConvexBackendTaskDefinition`. */
export interface ConvexBackendTaskDefinitionProps {
  /** The S3 storage the backend uses (a `ConvexStorage`). */
  readonly storage: ConvexBackendStorage;

  /**
   * Version of the backend image `ghcr.io/get-convex/convex-backend`, in one of the forms upstream
   * publishes: the full 40-character commit SHA in lowercase hex (upstream's tag of every release),
   * a digest `sha256:<64 lowercase hex>`, or `latest` (a synth warning: every task start may run
   * a different version). Anything else (`v1.2`, a short SHA) names no image and is rejected.
   * Images built before commit ca1f91cde (2026-04-09) ignore the task role and keep data on local
   * disk.
   *
   * @default DEFAULT_CONVEX_IMAGE_TAG
   */
  readonly imageTag?: string;

  /**
   * `INSTANCE_NAME`: lowercase letters, digits and hyphens. It seeds the S3 key prefix of every
   * object and names the SQL database, so it must **never change** once the backend has started.
   * Must equal the storage's `instanceName` (and `INSTANCE_NAME` in its `backendEnvironment`) when
   * that is set.
   *
   * @default - the storage's instanceName, else `convex-self-hosted` (the image's default)
   */
  readonly instanceName?: string;

  /**
   * Secret whose value is the `INSTANCE_SECRET` (exactly 64 hex characters). Admin keys are
   * derived from it.
   *
   * @default - a generated secret of 64 lowercase hex characters
   */
  readonly instanceSecret?: secretsmanager.ISecret;

  /**
   * JSON field of `instanceSecret` that holds the value.
   *
   * @default - the whole secret value
   */
  readonly instanceSecretField?: string;

  /**
   * ARNs of the IAM roles (or users) besides the task's execution role that may read the
   * generated `INSTANCE_SECRET`, e.g. the operators' role that runs `convex-storage admin-key`.
   * When given, the secret's resource policy denies `secretsmanager:GetSecretValue` to every
   * other principal, administrators included. Not used with your own `instanceSecret`.
   * @default - any principal whose IAM policy allows reading the secret
   */
  readonly instanceSecretReaderArns?: string[];

  /**
   * `CONVEX_CLOUD_ORIGIN`: the public URL of the API (port 3210), e.g.
   * `https://api.convex.example.com`, without a path. File and upload URLs are built from it and
   * the Node executor in the container calls back to it, so the task must reach it. Plain
   * `http://` to a host that is not loopback gives a synth warning.
   *
   * @default - `http://127.0.0.1:3210`, reachable only inside the task (synth warning)
   */
  readonly cloudOrigin?: string;

  /**
   * `CONVEX_SITE_ORIGIN`: the public URL of the HTTP actions (port 3211), e.g.
   * `https://site.convex.example.com`. It may carry a path: on one domain, upstream's layout is
   * `<cloudOrigin>/http` (`https://api.convex.example.com/http`), which the API listener (port
   * 3210) serves too. No trailing slash, query or fragment. Plain `http://` to a host that is not
   * loopback gives a synth warning (browsers on HTTPS pages refuse it, and keys would cross the
   * network in clear text).
   *
   * @default - `http://127.0.0.1:3211`, reachable only inside the task (synth warning)
   */
  readonly siteOrigin?: string;

  /**
   * A Postgres or MySQL database: a secret holding its URL (`ConvexDatabase`), or a connection
   * whose URL the container builds at start from a credentials secret, with the CA certificates
   * to verify it (`ConvexDatabaseConnection`, e.g. a `ConvexPostgres`). Without one the backend
   * keeps SQLite under `/convex/data`, which then needs `vpc` (a persistent EFS volume) or
   * `ephemeralData`.
   *
   * @default - SQLite under /convex/data
   */
  readonly database?: ConvexDatabase | ConvexDatabaseConnection;

  /**
   * VPC of the ECS service that will run the task. With SQLite (no `database`), a persistent,
   * encrypted EFS volume is created in it and mounted at `/convex/data`.
   *
   * @default - no volume
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of the data volume's mount targets: those your service's tasks run in.
   *
   * @default - the VPC's private subnets
   */
  readonly dataVolumeSubnets?: ec2.SubnetSelection;

  /**
   * Run SQLite on the task's ephemeral storage: **every task restart, deployment or scaling event
   * deletes all data**. Only for throw-away test deployments; gives a synth warning.
   *
   * @default false
   */
  readonly ephemeralData?: boolean;

  /**
   * Serve the backend's Prometheus `/metrics` endpoint on the API port (3210). The image serves
   * it **without authentication**, to anyone who reaches the port; turn it on only when the port
   * is private to your scraper.
   *
   * @default false - `DISABLE_METRICS_ENDPOINT=true`, as upstream's docker-compose file sets it
   */
  readonly metricsEndpoint?: boolean;

  /**
   * CA certificates (PEM, one or more `-----BEGIN CERTIFICATE-----` blocks) that the backend
   * trusts for database TLS besides the image's system roots. The entrypoint wrapper writes them
   * to a file in the container at start and points `PG_CA_FILE` and `MYSQL_CA_FILE` at it: needed
   * when the database's certificate chains to a private CA, as Amazon RDS's do (use the bundle of
   * the database's region from https://truststore.pki.rds.amazonaws.com/). Checked at synth: only
   * certificates, no key, at most 32 KiB (it travels in the task definition, limited to 64 KiB).
   *
   * @default - the image's system roots only
   */
  readonly databaseCaBundle?: string;

  /**
   * Start-up steps of the backend container's entrypoint wrapper: POSIX `sh` run in order before
   * the backend starts (after the database CA file), see `EntrypointStep`. More can be added with
   * `addStartupStep`.
   *
   * @default - none
   */
  readonly startupSteps?: EntrypointStep[];

  /**
   * Sets `DISABLE_BEACON` (no anonymous usage beacon to Convex).
   *
   * @default false
   */
  readonly disableBeacon?: boolean;

  /**
   * Sets `REDACT_LOGS_TO_CLIENT` (function logs and errors are not sent to clients).
   *
   * @default false
   */
  readonly redactLogsToClient?: boolean;

  /**
   * Sets `DO_NOT_REQUIRE_SSL` (allows plain-text connections to the database).
   *
   * @default false
   */
  readonly doNotRequireSsl?: boolean;

  /**
   * CPU units of the task (1024 = 1 vCPU); a Fargate size.
   *
   * @default 1024
   */
  readonly cpu?: number;

  /**
   * Memory of the task in MiB; must fit `cpu` on Fargate.
   *
   * @default 2048
   */
  readonly memoryLimitMiB?: number;

  /**
   * CPU architecture. The upstream images are published for both.
   *
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * Time the backend gets to drain (finish in-flight writes and uploads) after ECS stops the
   * task, before it is killed; at most 120 seconds on Fargate. ECS stops with SIGTERM; the
   * container's entrypoint wrapper passes it to the backend as SIGINT, the signal it drains on,
   * and the stop ends as soon as the backend has exited.
   *
   * @default Duration.seconds(120)
   */
  readonly stopTimeout?: Duration;

  /**
   * Grace period before failed health checks count (first start, migrations); at most 300 s.
   *
   * @default Duration.seconds(60)
   */
  readonly healthCheckStartPeriod?: Duration;

  /**
   * Log group of the containers.
   *
   * @default - a log group created here, retained on stack deletion
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * Retention of the log group created here.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the log group created here. The key policy must let CloudWatch Logs use it; this
   * construct adds that statement to keys whose policy it can change.
   *
   * @default - the storage's key when the storage created it (KMS mode), else CloudWatch Logs'
   * own encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Add the dashboard container (`ghcr.io/get-convex/convex-dashboard`, port 6791), pointed at
   * `cloudOrigin`.
   *
   * @default false
   */
  readonly dashboard?: boolean;

  /**
   * Version of the dashboard image, in the forms of `imageTag`; keep it on the backend's version.
   *
   * @default - the backend's `imageTag` (required when that is a digest)
   */
  readonly dashboardImageTag?: string;

  /**
   * What happens to the generated instance secret, the data volume and the log group when they
   * leave the stack. When they are kept and encrypted with a KMS key of this app that the stack
   * would delete (DeletionPolicy `Delete`), synth fails: they would be unreadable.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}
