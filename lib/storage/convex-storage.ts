import { Annotations, Duration, FeatureFlags, Lazy, Names, RemovalPolicy, Stack, Token, aws_iam as iam, aws_kms as kms, aws_s3 as s3, cx_api as cxapi } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AccessLogsBucket } from './access-logs-bucket';
import { blockSseC, dataBucketEncryption, dataLifecycleRules, denyOtherEncryption, secureBucketDefaults } from './bucket-defaults';
import {
  ConvexStorageProps, StorageEncryption, StorageLayout, convexStoragePropsProblems, hasReplicationDestination, namedBuckets, resolvedEncryption,
  separateBucketName, singleBucketName,
} from './convex-storage-props';
import { StorageReplicationRole } from './replication';
import { BackendIdentity, attachBackendAccessPolicy, newBackendAccessPolicy, principalArnOf } from '../access/backend-access-policy';
import { vpcEndpointIdListProblems } from '../access/network-options';
import { VPC_ENDPOINT_DENY_SID, vpcEndpointDenyStatement } from '../access/network-restriction';
import { acknowledgeComplianceRule } from '../compliance';
import { AWS_REGION, INSTANCE_NAME, STRICT_BOOLEAN_VARS, strictBoolean } from '../backend-env';
import { LIFECYCLE_DEFAULTS, STORAGE_KINDS, StorageKind, StorageKindSpec } from '../storage-kinds';
import { denyGrantsExceptForAwsResources } from '../iam/key-grant-guard';

export { ConvexStorageProps, StorageEncryption, StorageLayout, convexStoragePropsProblems } from './convex-storage-props';

const NO_REPLICATION_REASON = 'Durability and recovery come from S3 (eleven nines within the region), versioning, and a retention window for noncurrent versions that protects against overwrites and deletes. Cross-region replication would copy every object into a second region the deployment does not use and double the storage bill; the replication option of this construct adds a disaster-recovery copy in another region where one is required.';

const SSE_S3_REASON = 'Encrypted at rest with SSE-S3 (AES-256, keys managed and rotated by S3) and reachable only over TLS 1.2+. This deployment chose encryption s3; encryption kms switches every data bucket to a customer-managed KMS key with rotation when key-usage audit or key revocation is required.';

/**
 * The S3 storage of a self-hosted Convex backend: a hardened bucket per storage kind (or one
 * for all), access logging, and the backend environment that points the backend at them.
 */
export class ConvexStorage extends Construct {
  /** The layout in use. */
  public readonly layout: StorageLayout;

  /** The KMS key of the data buckets, in `KMS` mode. */
  public readonly encryptionKey?: kms.IKey;

  /** The bucket that receives the data buckets' server access logs. */
  public readonly accessLogsBucket: s3.IBucket;

  /**
   * The backend's storage environment, keyed by the exact variable names it reads:
   * `AWS_REGION`, the five `S3_STORAGE_*_BUCKET`, `AWS_S3_DISABLE_SSE=true` in KMS mode, and
   * `INSTANCE_NAME` when `instanceName` narrows the access policy.
   */
  public readonly backendEnvironment: Readonly<Record<string, string>>;

  /** The backend's `INSTANCE_NAME` the access policy is narrowed to, if given. */
  public readonly instanceName?: string;

  private readonly bucketsByKind: Readonly<Record<StorageKind, s3.IBucket>>;
  private readonly grantDeleteOnAllBuckets: boolean;
  private readonly backendVpcEndpointIds?: readonly string[];
  private accessPolicy?: iam.ManagedPolicy;
  /**
   * The endpoints each restricted principal may use. One deny statement per principal, whose
   * endpoint list grows with every call: two denies with different lists would each refuse the
   * other's endpoint and so lock the principal out entirely.
   */
  private readonly vpcEndpointsByPrincipal = new Map<string, string[]>();

  constructor(scope: Construct, id: string, props: ConvexStorageProps = {}) {
    super(scope, id);
    this.layout = props.layout ?? StorageLayout.SEPARATE;
    const encryption = resolvedEncryption(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.validate(props);

    if (encryption === StorageEncryption.KMS) {
      this.encryptionKey = props.encryptionKey ?? newStorageKey(this, removalPolicy === RemovalPolicy.DESTROY && props.autoDeleteObjects === true);
    }

    this.accessLogsBucket = props.accessLogsBucket ?? new AccessLogsBucket(this, 'AccessLogs', {
      retentionDays: props.accessLogRetentionDays,
      removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    }).bucket;

    const replication = props.replication;
    const replicationRole = hasReplicationDestination(replication) ? new StorageReplicationRole(this, 'Replication') : undefined;
    const lockDays = props.objectLockRetentionDays ?? props.noncurrentVersionRetentionDays ?? LIFECYCLE_DEFAULTS.noncurrentVersionRetentionDays;
    const newDataBucket = (constructId: string, spec: { bucketName?: string; logPrefix: string; currentObjectRetentionDays?: number; replicateTo?: s3.IBucket; locked?: boolean }) => {
      const replicateTo = spec.replicateTo;
      const bucket = new s3.Bucket(this, constructId, {
        ...(spec.locked ? { objectLockEnabled: true, objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(lockDays)) } : {}),
        ...secureBucketDefaults(removalPolicy),
        ...dataBucketEncryption(this.encryptionKey),
        bucketName: spec.bucketName,
        autoDeleteObjects: props.autoDeleteObjects ?? false,
        serverAccessLogsBucket: this.accessLogsBucket,
        serverAccessLogsPrefix: spec.logPrefix,
        lifecycleRules: dataLifecycleRules({
          abortIncompleteMultipartUploadDays: props.abortIncompleteMultipartUploadDays ?? LIFECYCLE_DEFAULTS.abortIncompleteMultipartUploadDays,
          noncurrentVersionRetentionDays: props.noncurrentVersionRetentionDays ?? LIFECYCLE_DEFAULTS.noncurrentVersionRetentionDays,
          currentObjectRetentionDays: spec.currentObjectRetentionDays,
        }),
        replicationRole: replicateTo && replicationRole?.role,
        replicationRules: replicateTo && [StorageReplicationRole.rule(replicateTo, this.encryptionKey, replication?.destinationEncryptionKey)],
      });
      if (replicateTo && replicationRole) {
        replicationRole.grant(bucket, replicateTo, this.encryptionKey, replication?.destinationEncryptionKey);
      } else {
        acknowledgeComplianceRule(bucket, 'S3BucketReplicationEnabled', NO_REPLICATION_REASON);
      }
      if (!this.encryptionKey) {
        acknowledgeComplianceRule(bucket, 'S3DefaultEncryptionKMS', SSE_S3_REASON);
      } else {
        denyOtherEncryption(bucket, this.encryptionKey);
      }
      blockSseC(bucket);
      return bucket;
    };

    if (this.layout === StorageLayout.SINGLE) {
      // All kinds share one key prefix here, so no current-object expiry can be safe.
      const bucket = newDataBucket('StorageBucket', {
        bucketName: singleBucketName(props),
        logPrefix: 'storage/',
        replicateTo: replication?.singleBucketDestination,
      });
      this.bucketsByKind = byKind(() => bucket);
    } else {
      this.bucketsByKind = byKind((spec) => newDataBucket(`${pascalCase(spec.kind)}Bucket`, {
        bucketName: separateBucketName(props, spec),
        logPrefix: `${spec.bucketSuffix}/`,
        currentObjectRetentionDays: spec.currentObjects.expires ? props[spec.currentObjects.retentionSetting] ?? spec.currentObjects.defaultDays : undefined,
        replicateTo: replication?.destinations?.[spec.kind],
        locked: props.objectLock === true && spec.objectLock.locked,
      }));
    }
    replicationRole?.acknowledgeObjectWildcards();

    const environment: Record<string, string> = { [AWS_REGION]: Stack.of(this).region };
    for (const spec of STORAGE_KINDS) {
      environment[spec.envVar] = this.bucketsByKind[spec.kind].bucketName;
    }
    if (this.encryptionKey) {
      environment[STRICT_BOOLEAN_VARS.disableSse] = strictBoolean(true);
    }
    if (props.instanceName !== undefined) {
      // The access policy covers only this name's keys: a backend with another name is denied.
      environment[INSTANCE_NAME] = props.instanceName;
    }
    this.backendEnvironment = environment;
    this.instanceName = props.instanceName;
    this.grantDeleteOnAllBuckets = props.grantDeleteOnAllBuckets ?? false;
    this.backendVpcEndpointIds = props.backendVpcEndpointIds;
  }

  /**
   * The one customer-managed policy with exactly the backend's permissions: `s3:ListBucket` on
   * the buckets; `s3:GetObject`, `s3:PutObject`, `s3:AbortMultipartUpload` on their objects
   * (`<instanceName>-<uuid>/*` when given); `s3:DeleteObject` where the backend deletes (or on every
   * bucket with `grantDeleteOnAllBuckets`); `kms:GenerateDataKey` and `kms:Decrypt` on the key,
   * through S3 only, in KMS mode. Created on first use, so storage nobody is granted to gets no
   * policy.
   */
  public get backendAccessPolicy(): iam.ManagedPolicy {
    if (!this.accessPolicy) {
      this.accessPolicy = newBackendAccessPolicy(this, 'BackendAccessPolicy', {
        buckets: this.bucketsByKind,
        encryptionKey: this.encryptionKey,
        instanceName: this.instanceName,
        grantDeleteOnAllBuckets: this.grantDeleteOnAllBuckets,
      });
    }
    return this.accessPolicy;
  }

  /**
   * Gives the backend's permissions ({@link backendAccessPolicy}) to an IAM role (an ECS task
   * role, an EC2 instance role, a role from another stack), user or group, or to anything whose
   * `grantPrincipal` is one of them. Throws for principals a managed policy cannot be attached
   * to (service, account or ARN principals).
   *
   * @returns the attached policy
   */
  public grantBackendAccess(grantee: iam.IGrantable): iam.ManagedPolicy {
    const policy = this.backendAccessPolicy;
    const identity = attachBackendAccessPolicy(policy, grantee);
    if (this.backendVpcEndpointIds !== undefined) {
      this.restrictBackendToVpcEndpoints(identity, this.backendVpcEndpointIds);
    }
    return policy;
  }

  /**
   * Denies `principal` (the backend's role or IAM user) every request to the data buckets that
   * does not arrive through one of the S3 gateway VPC endpoints `vpcEndpointIds`: one statement
   * in each data bucket's policy, matching the principal by `aws:PrincipalArn` and the endpoint
   * by `aws:SourceVpce`. No other principal is affected. `grantBackendAccess` calls it for every
   * grantee when the storage has `backendVpcEndpointIds`; `ConvexBackend` calls it for its task
   * role and the endpoint of the VPC it creates.
   */
  public restrictBackendToVpcEndpoints(principal: iam.IRole | iam.IUser | iam.IGroup, vpcEndpointIds: readonly string[]): void {
    const principalArn = principalArnOf(principal as BackendIdentity);
    const problems = Token.isUnresolved(vpcEndpointIds) ? [] : vpcEndpointIdListProblems('vpcEndpointIds', vpcEndpointIds, (id) => Token.isUnresolved(id));
    if (principalArn === undefined) {
      problems.push(`${principal.node.path} is an IAM group, which is never the principal of a request, so the bucket policies cannot name it: restrict the backend's role or IAM user instead (for a backend outside AWS, BackendUser's sourceIps).`);
    } else if (Token.isUnresolved(principalArn) && Stack.of(principal) !== Stack.of(this)) {
      // The principal's stack already depends on this one (it attaches the access policy); the
      // bucket policies naming its ARN would add the opposite dependency, a cycle.
      problems.push(`${principal.node.path} is defined in stack ${Stack.of(principal).stackName}, and the bucket policies of stack ${Stack.of(this).stackName} cannot reference its ARN without making each stack depend on the other. Define the backend's principal in the storage's stack, or pass it imported by its literal ARN (iam.Role.fromRoleArn(this, 'BackendRole', 'arn:aws:iam::<account>:role/<name>')).`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid restrictBackendToVpcEndpoints call on ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    const key = (principal as unknown as Construct).node?.path ?? principalArn!;
    const known = this.vpcEndpointsByPrincipal.get(key);
    if (known !== undefined) {
      known.push(...vpcEndpointIds.filter((id) => !known.includes(id)));
      return;
    }
    const allowed = [...vpcEndpointIds];
    this.vpcEndpointsByPrincipal.set(key, allowed);
    const count = this.vpcEndpointsByPrincipal.size;
    const sid = count === 1 ? VPC_ENDPOINT_DENY_SID : `${VPC_ENDPOINT_DENY_SID}${count}`;
    const endpoints = Lazy.list({ produce: () => allowed });
    for (const bucket of this.dataBuckets) {
      bucket.addToResourcePolicy(vpcEndpointDenyStatement({ sid, bucket, principalArns: [principalArn!], vpcEndpointIds: endpoints }));
    }
  }

  /** The bucket that holds one kind of data (the same bucket for every kind in the single layout). */
  public bucket(kind: StorageKind): s3.IBucket {
    return this.bucketsByKind[kind];
  }

  /** The distinct data buckets: five in the separate layout, one in the single layout. */
  public get dataBuckets(): s3.IBucket[] {
    return [...new Set(Object.values(this.bucketsByKind))];
  }

  private validate(props: ConvexStorageProps): void {
    const problems = convexStoragePropsProblems(props);
    if (!props.accessLogsBucket && !FeatureFlags.of(this).isEnabled(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY)) {
      // Without it, aws-s3 grants log delivery through an ACL, which the log bucket (no ACLs,
      // bucket-owner enforced) refuses.
      problems.push(`the feature flag ${cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY} must be true for the access-log bucket to accept S3 log delivery through its bucket policy: set it in the "context" of your cdk.json (new CDK apps have it), or pass your own accessLogsBucket.`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid ConvexStorage properties at ${this.node.path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    const dotted = namedBuckets(props).map(({ name }) => name).filter((name) => !Token.isUnresolved(name) && name.includes('.'));
    if (dotted.length > 0) {
      Annotations.of(this).addWarningV2('cdk-convex-storage:bucket-name-dots',
        `Bucket names with dots (${dotted.join(', ')}) fail TLS certificate validation with virtual-hosted addressing. Prefer hyphens.`);
    }
  }
}

/**
 * The storage key: rotated yearly, a 30-day deletion window, an alias that says what it is for,
 * and a policy that lets nobody create grants on it except AWS services acting for AWS
 * resources (EFS, RDS and the like create their grants that way): a grant is a permission
 * outside the key policy that IAM does not show (Control Tower CT.KMS.PR.3).
 */
function newStorageKey(scope: Construct, deletable: boolean): kms.Key {
  const key = new kms.Key(scope, 'EncryptionKey', {
    description: 'Encrypts the S3 storage of a self-hosted Convex backend',
    enableKeyRotation: true,
    // The longest window KMS allows: a scheduled deletion can be cancelled for 30 days.
    pendingWindow: Duration.days(30),
    // Deleting the key makes everything encrypted with it unreadable: retained buckets, and
    // retained volumes, secrets or logs of other constructs. It goes only with emptied buckets.
    removalPolicy: deletable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  key.addAlias(`alias/${Names.uniqueResourceName(key, { maxLength: 200, separator: '-' })}`);
  key.addToResourcePolicy(denyGrantsExceptForAwsResources());
  return key;
}

function byKind(make: (spec: StorageKindSpec) => s3.IBucket): Record<StorageKind, s3.IBucket> {
  return Object.fromEntries(STORAGE_KINDS.map((spec) => [spec.kind, make(spec)])) as Record<StorageKind, s3.IBucket>;
}

function pascalCase(kind: string): string {
  return kind[0].toUpperCase() + kind.slice(1);
}
