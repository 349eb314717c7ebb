import { Arn, ArnFormat, Stack, Token, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeWildcardFindings } from '../compliance';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import { StorageKind } from '../storage-kinds';

/** Cross-region replication of the data buckets, for a disaster-recovery copy. */
export interface StorageReplication {
  /**
   * The bucket each kind replicates to (separate layout): a versioned bucket, usually in another
   * region and ideally another account. A kind without a destination is not replicated.
   *
   * @default - no kind is replicated
   */
  readonly destinations?: Partial<Record<StorageKind, s3.IBucket>>;

  /**
   * The bucket the one bucket of the single layout replicates to.
   *
   * @default - not replicated
   */
  readonly singleBucketDestination?: s3.IBucket;

  /**
   * The KMS key, in the destination's region, that encrypts the replicas. Required with
   * `StorageEncryption.KMS`: S3 replicates SSE-KMS objects only when it is told which key
   * encrypts the replicas.
   *
   * @default - replicas are encrypted like their SSE-S3 source objects
   */
  readonly destinationEncryptionKey?: kms.IKey;
}

/**
 * The role S3 assumes to replicate the data buckets. Its grants live in one customer-managed
 * policy, so the compliance packs' inline-policy rules pass without an acknowledgment.
 */
export class StorageReplicationRole extends Construct {
  /** The role. */
  public readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new ManagedPolicyRole(this, 'Role', {
      // Confused-deputy protection: S3 passes the source bucket's account and ARN, so only
      // buckets of this account can make S3 assume the role. (Naming the buckets themselves
      // would be a dependency cycle: each bucket's replication configuration names the role.)
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': `arn:${Stack.of(this).partition}:s3:::*` },
        },
      }),
      description: 'Assumed by S3 to replicate the buckets of a self-hosted Convex backend',
    });
  }

  /**
   * Replicates `source` to `destination`: returns the rule to put on the source bucket and, once
   * the bucket exists, {@link grant} gives the role what replication needs.
   */
  public static rule(destination: s3.IBucket, sourceKey: kms.IKey | undefined, destinationKey: kms.IKey | undefined): s3.ReplicationRule {
    return {
      destination,
      kmsKey: destinationKey,
      sseKmsEncryptedObjects: sourceKey ? true : undefined,
      // A delete in the source, by mistake or by an attacker, must not reach the copy: the
      // backend itself deletes only expired exports, which the copy's own lifecycle can expire.
      deleteMarkerReplication: false,
    };
  }

  /** Gives the role the permissions to replicate `source` to `destination`. */
  public grant(source: s3.IBucket, destination: s3.IBucket, sourceKey: kms.IKey | undefined, destinationKey: kms.IKey | undefined): void {
    source.grantReplicationPermission(this.role, {
      sourceDecryptionKey: sourceKey,
      destinations: [{ bucket: destination }],
    });
    if (destinationKey) {
      // Granted here rather than by aws-s3: a key of another environment would otherwise be
      // granted on Resource '*'. Named by its ARN, and usable only by S3 in the key's region.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [destinationKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${keyRegion(destinationKey)}.amazonaws.com` } },
      }));
    }
  }

  /** Records why the object wildcards of the role's policy are needed; call after every grant. */
  public acknowledgeObjectWildcards(): void {
    const policy = this.role.grantsPolicy;
    if (policy) {
      acknowledgeWildcardFindings(policy, policy.document, 'S3 replication reads every object version of each named source bucket and writes every replica into its named destination bucket, so the object key space of exactly those buckets is the resource; only s3.amazonaws.com can assume this role.');
    }
  }
}

/** The region of a key: from its ARN when that is known, else its stack's. */
function keyRegion(key: kms.IKey): string {
  const arn = key.keyArn;
  if (!Token.isUnresolved(arn)) return Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).region ?? key.env.region;
  return key.env.region;
}
