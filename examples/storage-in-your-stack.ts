// Reusing the storage construct in your own stack (the README shows this file; `npm test`
// type-checks it, so the example cannot drift from the API).
import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConvexStorage, StorageEncryption, outputKeyFor } from '../lib';

export class MyConvexStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const storage = new ConvexStorage(this, 'ConvexStorage', {
      bucketNamePrefix: 'acme-convex-prod',
      encryption: StorageEncryption.KMS,
      exportsRetentionDays: 90,
    });

    // The backend's environment, keyed by the exact variable names it reads.
    for (const [name, value] of Object.entries(storage.backendEnvironment)) {
      new CfnOutput(this, outputKeyFor(name), { value });
    }

    // Each bucket is there by kind, for your own grants, replication or alarms.
    new CfnOutput(this, 'FilesBucketArn', { value: storage.bucket('files').bucketArn });
  }
}

