import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { describeVariable, outputKeyFor } from '../backend-env';
import { ConvexStorage, ConvexStorageProps } from '../storage/convex-storage';

/** Properties of {@link ConvexStorageStack}. */
export interface ConvexStorageStackProps extends StackProps {
  /**
   * The storage settings.
   *
   * @default - five separate SSE-S3 buckets with the construct's defaults
   */
  readonly storage?: ConvexStorageProps;
}

/**
 * A deployable stack with the storage of one Convex deployment, whose outputs are the
 * backend's environment.
 */
export class ConvexStorageStack extends Stack {
  /** The storage construct. */
  public readonly storage: ConvexStorage;

  constructor(scope: Construct, id: string, props: ConvexStorageStackProps = {}) {
    super(scope, id, props);
    this.storage = new ConvexStorage(this, 'Storage', props.storage);
    this.outputEnvironment(this.storage.backendEnvironment);
  }

  /** One output per backend variable, keyed by the variable's PascalCase name. */
  private outputEnvironment(environment: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries(environment)) {
      new CfnOutput(this, outputKeyFor(name), { value, description: `${name}: ${describeVariable(name)}` });
    }
  }
}
