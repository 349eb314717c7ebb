import { Annotations, CfnOutput, RemovalPolicy, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexPostgres, ConvexPostgresOptions } from '../database/convex-postgres';
import { ConvexBackendVpc } from './backend-vpc';
import {
  ConvexBackendStorage, ConvexBackendTaskDefinition, ConvexBackendTaskDefinitionProps, ConvexDatabase, ConvexDatabaseEngine, backendInstanceName,
} from './convex-backend-task-definition';
import { DatabaseSecretSettings, databaseSecretProblems } from './secret-arn';
import { BACKEND_OUTPUTS } from '../backend-env';

/** How the app configures the backend: the task definition's props, with the database by ARN. */
export interface ConvexBackendOptions extends Omit<ConvexBackendTaskDefinitionProps, 'storage' | 'database'> {
  /**
   * The **complete** ARN of a Secrets Manager secret whose value is the database URL (without a
   * database name): it ends in the secret's name, `-` and the 6 random characters Secrets Manager
   * appends. The execution role is granted exactly this ARN, so a partial ARN is rejected; copy it
   * from the console or `aws secretsmanager describe-secret --secret-id <name> --query ARN`.
   *
   * @default - SQLite under /convex/data on a persistent EFS volume
   */
  readonly databaseUrlSecretArn?: string;

  /**
   * ARN of the customer-managed KMS key that encrypts the `databaseUrlSecretArn` secret: the
   * execution role is granted `kms:Decrypt` on it through Secrets Manager. Required for such a
   * secret, or the task fails to start (its key policy must let IAM policies of this account use
   * it, as the default key policy does).
   *
   * @default - the secret is encrypted with the AWS managed key `aws/secretsmanager`
   */
  readonly databaseUrlSecretKeyArn?: string;

  /**
   * The database behind `databaseUrlSecretArn`.
   *
   * @default ConvexDatabaseEngine.POSTGRES
   */
  readonly databaseEngine?: ConvexDatabaseEngine;

  /**
   * Give the backend its own RDS for PostgreSQL 17 database, a {@link ConvexPostgres} with these
   * settings: in the isolated subnets of the VPC created here (or the private ones of `vpc`), open
   * only to a backend security group created here (output `BackendSecurityGroupId`), encrypted
   * with the storage's key in KMS mode, its initial database named after `INSTANCE_NAME`. It
   * gets a final snapshot when it leaves the stack (deleted with it only when `removalPolicy` is
   * `DESTROY`). Not with `databaseUrlSecretArn` or `ephemeralData`.
   *
   * @default - no managed database: the database of databaseUrlSecretArn, else SQLite on EFS
   */
  readonly postgres?: ConvexPostgresOptions;
}

/** Properties of {@link ConvexBackend}. */
export interface ConvexBackendProps extends ConvexBackendOptions {
  /** The storage the backend uses. */
  readonly storage: ConvexBackendStorage;
}

/**
 * The backend as the deployable app adds it (context `ecs=true`): the task definition, a
 * {@link ConvexBackendVpc} when SQLite needs a data volume or `postgres` a database and no VPC
 * is given, the database itself with `postgres`, and stack outputs for the service you run it
 * with.
 */
export class ConvexBackend extends Construct {
  /** The task definition construct. */
  public readonly backend: ConvexBackendTaskDefinition;
  /** The VPC created for the data volume or the database, if one was needed. */
  public readonly network?: ConvexBackendVpc;
  /** The managed database (`postgres`). */
  public readonly database?: ConvexPostgres;
  /** The security group to put on the backend's service: the only one the database lets in (`postgres`). */
  public readonly backendSecurityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ConvexBackendProps) {
    super(scope, id);
    const { storage, databaseUrlSecretArn, databaseUrlSecretKeyArn, databaseEngine, postgres, ...options } = props;
    const ownDatabase = this.ownDatabase(databaseUrlSecretArn, databaseUrlSecretKeyArn, databaseEngine, postgres, options.ephemeralData);
    const needsVpc = postgres !== undefined || (!ownDatabase && !options.ephemeralData);
    if (needsVpc && !options.vpc) {
      this.network = new ConvexBackendVpc(this, 'Network', {
        // Same rule as the task's log group: only a key whose policy this app writes.
        flowLogEncryptionKey: options.logEncryptionKey ?? (storage.encryptionKey instanceof kms.Key ? storage.encryptionKey : undefined),
        databaseSubnets: postgres !== undefined,
        removalPolicy: options.removalPolicy,
      });
    }
    const vpc = options.vpc ?? this.network?.vpc;
    if (postgres && vpc) {
      this.backendSecurityGroup = new ec2.SecurityGroup(this, 'BackendSecurityGroup', {
        vpc,
        description: 'Attach to the ECS service of the Convex backend: it may reach its database',
        allowAllOutbound: true,
      });
      this.database = new ConvexPostgres(this, 'Database', {
        ...postgres,
        vpc,
        backendConnections: this.backendSecurityGroup,
        instanceName: backendInstanceName(options.instanceName, storage),
        encryptionKey: storage.encryptionKey,
        // A kept database is a final snapshot: a retained instance would run (and bill) on.
        removalPolicy: options.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
      });
    }
    this.backend = new ConvexBackendTaskDefinition(this, 'Backend', {
      ...options,
      storage,
      database: this.database ?? ownDatabase,
      // The VPC holds the SQLite volume; with a database it is the database's alone.
      vpc: this.database ? undefined : vpc,
    });

    if (options.dashboard) {
      // Kept for stacks that run the task themselves; the service (context service=true) runs
      // the dashboard apart, with a role that holds no storage access.
      Annotations.of(this).addWarningV2('cdk-convex-storage:dashboard-in-backend-task', 'dashboard: the dashboard container runs in the backend\'s task and so with its task role, which holds the storage access policy. With service=true instead, the dashboard runs as a service of its own whose role has no AWS access, behind the load balancer and reachable only from dashboardAllowedCidrs.');
    }
    if (this.network) restrictStorageToNetwork(this, storage, this.backend.taskRole, this.network);
    outputBackend(this, this.backend, this.network, options);
    if (this.database && this.backendSecurityGroup) outputDatabase(this, this.database, this.backendSecurityGroup, options.removalPolicy);
  }
  /** The database secret of your own, imported by its complete ARN together with its key. */
  private ownDatabase(secretArn: string | undefined, keyArn: string | undefined, engine: ConvexDatabaseEngine | undefined, postgres: ConvexPostgresOptions | undefined, ephemeralData: boolean | undefined): ConvexDatabase | undefined {
    const problems = databaseSecretProblems({ databaseUrlSecretArn: secretArn, databaseUrlSecretKeyArn: keyArn, databaseEngine: engine });
    if (postgres && secretArn !== undefined) {
      problems.push('postgres: databaseUrlSecretArn already gives the backend a database of your own; set one of postgres and databaseUrlSecretArn, not both.');
    }
    if (postgres && ephemeralData) {
      problems.push('ephemeralData: the data lives in the database that postgres creates; drop ephemeralData.');
    }
    if (problems.length > 0) {
      throw new Error(`Invalid ConvexBackend properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    return importDatabaseSecret(this, { databaseUrlSecretArn: secretArn, databaseUrlSecretKeyArn: keyArn, databaseEngine: engine });
  }
}

/**
 * The database secret of `settings`, imported by its complete ARN together with its key; throws
 * on an invalid ARN. Undefined without `databaseUrlSecretArn`.
 */
export function importDatabaseSecret(scope: Construct, settings: DatabaseSecretSettings): ConvexDatabase | undefined {
  const { databaseUrlSecretArn: secretArn, databaseUrlSecretKeyArn: keyArn, databaseEngine } = settings;
  const problems = databaseSecretProblems(settings);
  if (problems.length > 0) {
    throw new Error(`Invalid ${scope.constructor.name} properties at ${scope.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  if (secretArn === undefined) return undefined;

  // A name that itself ends in '-' and six characters reads like a complete ARN: warn when the
  // "random" part is a lowercase word (as in '...:secret:convex-db-secret').
  const suffix = /-([A-Za-z0-9]{6})$/.exec(secretArn)?.[1];
  if (suffix !== undefined && /^[a-z]+$/.test(suffix)) {
    Annotations.of(scope).addWarningV2('cdk-convex-storage:secret-arn-suffix', `databaseUrlSecretArn ends in '-${suffix}', which looks like part of the secret's name rather than the 6 random characters Secrets Manager appends. If it is a partial ARN, the task cannot read the secret: check it with aws secretsmanager describe-secret --secret-id '${secretArn}' --query ARN --output text.`);
  }
  return {
    engine: (databaseEngine as ConvexDatabaseEngine | undefined) ?? ConvexDatabaseEngine.POSTGRES,
    urlSecret: secretsmanager.Secret.fromSecretCompleteArn(scope, 'DatabaseUrlSecret', secretArn),
    urlSecretEncryptionKey: keyArn === undefined ? undefined : kms.Key.fromKeyArn(scope, 'DatabaseUrlSecretKey', keyArn),
  };
}

/**
 * Confines the task role's storage access to `network`'s S3 endpoint: the task runs in that VPC,
 * so its storage requests all arrive through the endpoint, and a task-role credential that leaks
 * stops working anywhere else. Storage in another stack cannot name the task role without a
 * cross-stack cycle: then a warning says how to do it there. The same as
 * {@link ConvexBackendVpc.confineStorageAccess}, for callers that hold the VPC construct.
 */
export function restrictStorageToNetwork(_scope: Construct, storage: ConvexBackendStorage, taskRole: iam.IRole, network: ConvexBackendVpc): void {
  network.confineStorageAccess(storage, taskRole);
}

function outputOf(scope: Construct): (key: string, value: string, description: string) => void {
  return (key, value, description) => {
    new CfnOutput(scope, key, { value, description }).overrideLogicalId(key);
  };
}

/**
 * The stack outputs of a backend task definition (and of the VPC made for it), under the same
 * keys whichever construct made them (ConvexBackend, ConvexBackendService): the CLI reads them by
 * these names.
 */
export function outputBackend(
  scope: Construct, backend: ConvexBackendTaskDefinition, network: ConvexBackendVpc | undefined,
  options: { readonly removalPolicy?: RemovalPolicy; readonly instanceSecretField?: string; readonly runByService?: boolean },
): void {
  const output = outputOf(scope);
  output('BackendTaskDefinitionArn', backend.taskDefinition.taskDefinitionArn, options.runByService
    ? 'Task definition of the Convex backend, run by the backend service (one task)'
    : 'Task definition of the Convex backend: run it in an ECS Fargate service with desiredCount 1, minHealthyPercent 0, maxHealthyPercent 100');
  output('BackendTaskRoleArn', backend.taskRole.roleArn, 'Role the backend runs with; it holds the storage access policy (no access keys)');
  output(BACKEND_OUTPUTS.instanceSecretArn, backend.instanceSecret.secretArn, 'INSTANCE_SECRET: ARN of the Secrets Manager secret holding it (64 hex characters); the value is never an output. npx convex-storage admin-key --stack <this stack> derives an admin key from it');
  if (options.instanceSecretField !== undefined) {
    output(BACKEND_OUTPUTS.instanceSecretField, options.instanceSecretField, 'INSTANCE_SECRET: the JSON field of that secret that holds it');
  }
  output(BACKEND_OUTPUTS.instanceName, backend.instanceName, 'INSTANCE_NAME the backend runs with: the first part of every admin key and S3 key; never change it');
  output('BackendImage', backend.image, 'Backend image the task runs');
  output('BackendLogGroupName', backend.logGroup.logGroupName, 'Log group of the backend containers');
  const volume = backend.dataVolume;
  if (volume) {
    const kept = options.removalPolicy !== RemovalPolicy.DESTROY;
    output('BackendDataFileSystemId', volume.fileSystem.fileSystemId, `EFS file system holding /convex/data (SQLite); ${kept ? 'retained on stack deletion' : 'DELETED when the stack is deleted'}`);
    // A service of this library has a group of its own, which the data volume lets in.
    if (!options.runByService) output('BackendSecurityGroupId', volume.clientSecurityGroup.securityGroupId, 'Security group to put on the backend service: it may reach the data volume');
  }
  if (network) {
    output('BackendVpcId', network.vpc.vpcId, 'VPC created for the backend: run the service in its private subnets');
    output('BackendPrivateSubnetIds', network.vpc.privateSubnets.map((s) => s.subnetId).join(','), 'Private subnets to run the backend service in (comma-separated)');
    output('BackendS3EndpointId', network.s3Endpoint.vpcEndpointId, 'S3 gateway endpoint of the backend VPC: the storage denies the task role every request that does not come through it');
  }
}

/** The stack outputs of the managed database and the one security group it lets in. */
export function outputDatabase(scope: Construct, database: ConvexPostgres, backendSecurityGroup: ec2.ISecurityGroup, removalPolicy: RemovalPolicy | undefined): void {
  const output = outputOf(scope);
  output('BackendSecurityGroupId', backendSecurityGroup.securityGroupId, 'Security group of the backend service: the only one the database lets in (port 5433)');
  output('BackendDatabaseInstanceIdentifier', database.instance.instanceIdentifier, `RDS for PostgreSQL instance of the backend; ${removalPolicy === RemovalPolicy.DESTROY ? 'DELETED when the stack is deleted' : 'a final snapshot is kept when the stack is deleted'}`);
  output('BackendDatabaseHost', database.hostname, 'Host name of the backend database (TLS required; reachable only from BackendSecurityGroupId)');
  output('BackendDatabaseName', database.databaseName, 'Database the backend opens: INSTANCE_NAME with - turned into _');
  output('BackendDatabaseSecretArn', database.credentialsSecret.secretArn, 'ARN of the Secrets Manager secret with the database master user and password; the value is never an output');
}
