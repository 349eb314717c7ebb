import { CfnDeletionPolicy, CfnResource, RemovalPolicy, aws_kms as kms } from 'aws-cdk-lib';

/**
 * Whether deleting the stack deletes `key`: a KMS key defined in this app whose CloudFormation
 * DeletionPolicy is `Delete` (or unset, CloudFormation's default). An imported key, or anything
 * else that is not an `AWS::KMS::Key` of this app (an alias, say), is never deleted by the stack.
 */
export function keyDeletedWithStack(key: kms.IKey | undefined): boolean {
  const resource = key?.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource) || resource.cfnResourceType !== 'AWS::KMS::Key') return false;
  const policy = resource.cfnOptions.deletionPolicy;
  return policy === undefined || policy === CfnDeletionPolicy.DELETE;
}

/**
 * The problem with keeping `what` (encrypted with `key`) when the stack is deleted while the key
 * goes with the stack: everything kept would be unreadable. Undefined when there is none.
 *
 * @param what the kept resources, e.g. `the data volume (the SQLite database)`
 * @param removalPolicy the setting that keeps them, e.g. `removalPolicy 'retain' (the default)`
 */
export function retainedWithDeletedKeyProblem(what: string, removalPolicy: string, key: kms.IKey | undefined): string | undefined {
  if (!key || !keyDeletedWithStack(key)) return undefined;
  return `${removalPolicy} keeps ${what} when the stack is deleted, but their KMS key ${key.node.path} has DeletionPolicy Delete (its removalPolicy is DESTROY) and would be deleted with the stack, leaving them unreadable for good. Keep the key (RemovalPolicy.RETAIN on the key; a ConvexStorage retains its key unless removalPolicy is DESTROY and autoDeleteObjects is on), or set removalPolicy to RemovalPolicy.DESTROY here as well for a throw-away stack.`;
}

/** Describes a removal policy setting for {@link retainedWithDeletedKeyProblem}. */
export function describeRemovalPolicy(given: RemovalPolicy | undefined, prop = 'removalPolicy'): string {
  return given === undefined ? `${prop} RETAIN (the default)` : `${prop} '${given}'`;
}

/** Whether a resource with this removal policy outlives the stack (any policy but DESTROY). */
export function isKept(removalPolicy: RemovalPolicy): boolean {
  return removalPolicy !== RemovalPolicy.DESTROY;
}
