// Granting the backend's storage access to a role in your own stack (the README shows this
// file; `npm test` type-checks it and a test synthesizes it).
import { App, Stack, StackProps, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexStorage, ConvexStorageStack, StorageEncryption } from '../lib';

/** Props of the stack that runs the backend. */
export interface MyBackendStackProps extends StackProps {
  /** The storage, from the storage stack. */
  readonly storage: ConvexStorage;
}

/** Your stack: where the backend runs, with a role of its own. */
export class MyBackendStack extends Stack {
  public readonly backendRole: iam.Role;

  constructor(scope: Construct, id: string, props: MyBackendStackProps) {
    super(scope, id, props);

    // Any role, user or group works: an ECS task role, an EC2 instance role, a role assumed
    // through OIDC by a workload in another cloud...
    this.backendRole = new iam.Role(this, 'BackendTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });

    // Attaches the storage's one customer-managed policy (exactly the S3 and KMS calls the
    // backend makes) to the role. The role's stack then depends on the storage stack, in the
    // same direction as the bucket names your task definition reads from it.
    props.storage.grantBackendAccess(this.backendRole);
  }
}

/** The two stacks of one deployment. */
export function buildExampleApp(app: App = new App()): { storageStack: ConvexStorageStack; backendStack: MyBackendStack } {
  const storageStack = new ConvexStorageStack(app, 'ConvexStorage-prod', {
    storage: {
      encryption: StorageEncryption.KMS,
      // The backend's INSTANCE_NAME: object access narrows to keys under `my-app-*`.
      instanceName: 'my-app',
    },
  });
  const backendStack = new MyBackendStack(app, 'MyBackend-prod', { storage: storageStack.storage });
  return { storageStack, backendStack };
}
