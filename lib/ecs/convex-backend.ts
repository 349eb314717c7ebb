import { CfnOutput, aws_kms as kms, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexBackendVpc } from './backend-vpc';
import {
  ConvexBackendStorage, ConvexBackendTaskDefinition, ConvexBackendTaskDefinitionProps, ConvexDatabaseEngine,
} from './convex-backend-task-definition';

/** How the app configures the backend: the task definition's props, with the database by ARN. */
export interface ConvexBackendOptions extends Omit<ConvexBackendTaskDefinitionProps, 'storage' | 'database'> {
  /**
   * ARN of a Secrets Manager secret whose value is the database URL (without a database name).
   *
   * @default - SQLite under /convex/data on a persistent EFS volume
   */
  readonly databaseUrlSecretArn?: string;

  /**
   * The database behind `databaseUrlSecretArn`.
   *
   * @default ConvexDatabaseEngine.POSTGRES
   */
  readonly databaseEngine?: ConvexDatabaseEngine;
}

/** Properties of {@link ConvexBackend}. */
export interface ConvexBackendProps extends ConvexBackendOptions {
  /** The storage the backend uses. */
  readonly storage: ConvexBackendStorage;
}

/**
 * The backend as the deployable app adds it (context `ecs=true`): the task definition, a
 * {@link ConvexBackendVpc} when SQLite needs a data volume and no VPC is given, and stack
 * outputs for the service you run it with.
 */
export class ConvexBackend extends Construct {
  /** The task definition construct. */
  public readonly backend: ConvexBackendTaskDefinition;
  /** The VPC created for the data volume, if one was needed. */
  public readonly network?: ConvexBackendVpc;

  constructor(scope: Construct, id: string, props: ConvexBackendProps) {
    super(scope, id);
    const { storage, databaseUrlSecretArn, databaseEngine, ...options } = props;
    const database = databaseUrlSecretArn === undefined ? undefined : {
      engine: databaseEngine ?? ConvexDatabaseEngine.POSTGRES,
      urlSecret: /-[A-Za-z0-9]{6}$/.test(databaseUrlSecretArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'DatabaseUrlSecret', databaseUrlSecretArn)
        : secretsmanager.Secret.fromSecretPartialArn(this, 'DatabaseUrlSecret', databaseUrlSecretArn),
    };
    if (!database && !options.vpc && !options.ephemeralData) {
      this.network = new ConvexBackendVpc(this, 'Network', {
        // Same rule as the task's log group: only a key whose policy this app writes.
        flowLogEncryptionKey: options.logEncryptionKey ?? (storage.encryptionKey instanceof kms.Key ? storage.encryptionKey : undefined),
        removalPolicy: options.removalPolicy,
      });
    }
    this.backend = new ConvexBackendTaskDefinition(this, 'Backend', {
      ...options,
      storage,
      database,
      vpc: options.vpc ?? this.network?.vpc,
    });

    const output = (key: string, value: string, description: string) => {
      new CfnOutput(this, key, { value, description }).overrideLogicalId(key);
    };
    output('BackendTaskDefinitionArn', this.backend.taskDefinition.taskDefinitionArn, 'Task definition of the Convex backend: run it in an ECS Fargate service with desiredCount 1, minHealthyPercent 0, maxHealthyPercent 100');
    output('BackendTaskRoleArn', this.backend.taskRole.roleArn, 'Role the backend runs with; it holds the storage access policy (no access keys)');
    output('BackendInstanceSecretArn', this.backend.instanceSecret.secretArn, 'INSTANCE_SECRET: ARN of the Secrets Manager secret holding it (64 hex characters); the value is never an output');
    output('BackendImage', this.backend.image, 'Backend image the task runs');
    output('BackendLogGroupName', this.backend.logGroup.logGroupName, 'Log group of the backend containers');
    const volume = this.backend.dataVolume;
    if (volume) {
      output('BackendDataFileSystemId', volume.fileSystem.fileSystemId, 'EFS file system holding /convex/data (SQLite); retained on stack deletion');
      output('BackendSecurityGroupId', volume.clientSecurityGroup.securityGroupId, 'Security group to put on the backend service: it may reach the data volume');
    }
    if (this.network) {
      output('BackendVpcId', this.network.vpc.vpcId, 'VPC created for the backend: run the service in its private subnets');
      output('BackendPrivateSubnetIds', this.network.vpc.privateSubnets.map((s) => s.subnetId).join(','), 'Private subnets to run the backend service in (comma-separated)');
    }
  }
}
