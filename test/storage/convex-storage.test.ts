import { App, CfnParameter, RemovalPolicy, Stack, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ConvexStorage, ConvexStorageProps, StorageEncryption, StorageLayout } from '../../lib/storage/convex-storage';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { testOutdir, unitTestStack } from '../helpers/cdk-app';

interface Built {
  readonly stack: Stack;
  readonly storage: ConvexStorage;
  readonly template: Template;
}

function build(props?: ConvexStorageProps, before?: (stack: Stack) => Partial<ConvexStorageProps>): Built {
  const stack = unitTestStack();
  const extra = before?.(stack) ?? {};
  const storage = new ConvexStorage(stack, 'Storage', { ...props, ...extra });
  return { stack, storage, template: Template.fromStack(stack) };
}

/** The data buckets' resources (every bucket that logs to the access-log bucket). */
function dataBuckets(template: Template): Record<string, any> {
  return template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.anyValue() } });
}

function logBuckets(template: Template): Record<string, any> {
  return template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.absent() } });
}

function rulesOf(bucket: any): Record<string, any> {
  return Object.fromEntries(bucket.Properties.LifecycleConfiguration.Rules.map((r: any) => [r.Id, r]));
}

function bucketWithLogPrefix(template: Template, prefix: string): any {
  const found = Object.values(dataBuckets(template)).filter((b: any) => b.Properties.LoggingConfiguration.LogFilePrefix === prefix);
  expect(found).toHaveLength(1);
  return found[0];
}

function errorOf(props: ConvexStorageProps): string {
  try {
    build(props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the construct to reject its props');
}

describe.each([
  ['separate', 's3', { layout: StorageLayout.SEPARATE, encryption: StorageEncryption.S3_MANAGED }, 5],
  ['separate', 'kms', { layout: StorageLayout.SEPARATE, encryption: StorageEncryption.KMS }, 5],
  ['single', 's3', { layout: StorageLayout.SINGLE, encryption: StorageEncryption.S3_MANAGED }, 1],
  ['single', 'kms', { layout: StorageLayout.SINGLE, encryption: StorageEncryption.KMS }, 1],
] as const)('every bucket is hardened (%s layout, %s encryption)', (_layout, encryption, props, dataBucketCount) => {
  const { template } = build(props);
  const buckets = template.findResources('AWS::S3::Bucket');

  test('the data buckets and one access-log bucket', () => {
    expect(Object.keys(dataBuckets(template))).toHaveLength(dataBucketCount);
    expect(Object.keys(logBuckets(template))).toHaveLength(1);
  });

  test('retained, versioned, private, bucket-owner enforced, no CORS, generated names', () => {
    for (const bucket of Object.values(buckets)) {
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      // The backend never hands S3 URLs to a browser.
      expect(bucket.Properties.CorsConfiguration).toBeUndefined();
      expect(bucket.Properties.BucketName).toBeUndefined();
    }
  });

  test(`data buckets are encrypted with ${encryption === 'kms' ? 'the KMS key' : 'SSE-S3'} and Bucket Keys; the log bucket with SSE-S3`, () => {
    for (const bucket of Object.values(dataBuckets(template))) {
      const [rule] = bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration;
      expect(rule.BucketKeyEnabled).toBe(true);
      expect(rule.ServerSideEncryptionByDefault.SSEAlgorithm).toBe(encryption === 'kms' ? 'aws:kms' : 'AES256');
    }
    for (const bucket of Object.values(logBuckets(template))) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    }
  });

  test('every bucket denies non-TLS and TLS below 1.2, and no policy demands an encryption header', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(Object.keys(buckets).length);
    for (const policy of policies) {
      const statements: any[] = policy.Properties.PolicyDocument.Statement;
      expect(statements).toEqual(expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]));
      // An encryption header is never demanded: a statement on one applies only when it is sent.
      for (const statement of statements.filter((st) => JSON.stringify(st).includes('s3:x-amz-server-side-encryption'))) {
        expect(statement.Effect).toBe('Deny');
        expect(Object.values(statement.Condition.Null)).toEqual(['false']);
      }
    }
  });

  test('data buckets log access, abort incomplete uploads after 7 days, expire noncurrent versions after 30', () => {
    const logBucketId = Object.keys(logBuckets(template))[0];
    for (const bucket of Object.values(dataBuckets(template))) {
      expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logBucketId });
      const rules = rulesOf(bucket);
      expect(rules['abort-incomplete-multipart-uploads'].AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 7 });
      expect(rules['expire-noncurrent-versions']).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, ExpiredObjectDeleteMarker: true });
    }
  });
});

describe('ConvexStorage, defaults (separate layout, SSE-S3)', () => {
  const { stack, storage, template } = build();

  test('one data bucket per kind plus one access-log bucket', () => {
    expect(Object.keys(dataBuckets(template))).toHaveLength(5);
    expect(Object.keys(logBuckets(template))).toHaveLength(1);
    expect(storage.dataBuckets).toHaveLength(5);
  });

  test('data buckets use S3 Bucket Keys and log to the log bucket under a per-kind prefix', () => {
    const logBucketId = Object.keys(logBuckets(template))[0];
    for (const spec of STORAGE_KINDS) {
      const bucket = bucketWithLogPrefix(template, `${spec.bucketSuffix}/`);
      expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logBucketId });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].BucketKeyEnabled).toBe(true);
    }
  });

  test('every data bucket aborts incomplete uploads after 7 days and expires noncurrent versions after 30', () => {
    for (const bucket of Object.values(dataBuckets(template))) {
      const rules = rulesOf(bucket);
      expect(rules['abort-incomplete-multipart-uploads']).toEqual({
        Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      });
      expect(rules['expire-noncurrent-versions']).toEqual({
        Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 }, ExpiredObjectDeleteMarker: true,
      });
    }
  });

  test('exports expire after 45 days, imports after 30; files, modules and search never expire', () => {
    const expiry = (suffix: string) => rulesOf(bucketWithLogPrefix(template, `${suffix}/`))['expire-current-objects']?.ExpirationInDays;
    expect(expiry('exports')).toBe(45);
    expect(expiry('snapshot-imports')).toBe(30);
    for (const suffix of ['files', 'modules', 'search']) {
      const bucket = bucketWithLogPrefix(template, `${suffix}/`);
      expect(bucket.Properties.LifecycleConfiguration.Rules.filter((r: any) => r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined)).toEqual([]);
    }
  });

  test('the access-log bucket keeps logs 365 days, with SSE-S3 as log delivery requires', () => {
    const logBucket: any = Object.values(logBuckets(template))[0];
    expect(rulesOf(logBucket)['expire-access-logs']).toMatchObject({ ExpirationInDays: 365, NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' },
        })]),
      },
    });
  });

  test('no auto-delete custom resource and no KMS key', () => {
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(storage.encryptionKey).toBeUndefined();
  });

  test('the backend environment names the region and each bucket, and nothing else', () => {
    const env = stack.resolve(storage.backendEnvironment);
    const expected: Record<string, unknown> = { AWS_REGION: { Ref: 'AWS::Region' } };
    for (const spec of STORAGE_KINDS) {
      expected[spec.envVar] = stack.resolve(storage.bucket(spec.kind).bucketName);
    }
    expect(env).toEqual(expected);
    expect(new Set(Object.values(env).map((v) => JSON.stringify(v))).size).toBe(6);
  });

  test('no warnings', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('ConvexStorage, KMS encryption', () => {
  const { stack, storage, template } = build({ encryption: StorageEncryption.KMS });

  test('creates one rotating, retained key and encrypts every data bucket with it and Bucket Keys', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    const [keyId, key] = Object.entries(template.findResources('AWS::KMS::Key'))[0] as [string, any];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    for (const bucket of Object.values(dataBuckets(template))) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{
        BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      }]);
    }
  });

  test('keeps the log bucket on SSE-S3, the only encryption log delivery supports', () => {
    const logBucket: any = Object.values(logBuckets(template))[0];
    expect(logBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
  });

  test('tells the backend to stop sending its AES256 header, in lowercase', () => {
    expect(stack.resolve(storage.backendEnvironment).AWS_S3_DISABLE_SSE).toBe('true');
  });

  test('uses a key the user passes instead of creating one', () => {
    const built = build(undefined, (s) => ({ encryptionKey: new kms.Key(s, 'MyKey') }));
    built.template.resourceCountIs('AWS::KMS::Key', 1);
    expect(Object.keys(built.template.findResources('AWS::KMS::Key'))[0]).toMatch(/^MyKey/);
    expect(built.stack.resolve(built.storage.backendEnvironment).AWS_S3_DISABLE_SSE).toBe('true');
  });
});

describe('ConvexStorage, single layout', () => {
  const { stack, storage, template } = build({ layout: StorageLayout.SINGLE, bucketNamePrefix: 'acme-convex' });

  test('one data bucket holds every kind and all five variables name it', () => {
    expect(Object.keys(dataBuckets(template))).toHaveLength(1);
    const env = stack.resolve(storage.backendEnvironment);
    for (const spec of STORAGE_KINDS) {
      expect(env[spec.envVar]).toEqual(stack.resolve(storage.dataBuckets[0].bucketName));
    }
    template.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-convex-storage' });
  });

  test('never expires current objects, since files share the key prefix with exports', () => {
    const bucket: any = Object.values(dataBuckets(template))[0];
    expect(Object.keys(rulesOf(bucket)).sort()).toEqual(['abort-incomplete-multipart-uploads', 'expire-noncurrent-versions']);
  });
});

describe('ConvexStorage, options', () => {
  test('bucketNamePrefix names every bucket by kind; bucketNames override one', () => {
    const { template } = build({ bucketNamePrefix: 'acme-prod', bucketNames: { files: 'acme-user-uploads' } });
    const names = Object.values(dataBuckets(template)).map((b: any) => b.Properties.BucketName).sort();
    expect(names).toEqual(['acme-prod-exports', 'acme-prod-modules', 'acme-prod-search', 'acme-prod-snapshot-imports', 'acme-user-uploads']);
  });

  test('retention and lifecycle settings', () => {
    const { template } = build({ exportsRetentionDays: 44, importsRetentionDays: 7, noncurrentVersionRetentionDays: 90, abortIncompleteMultipartUploadDays: 2, accessLogRetentionDays: 30 });
    expect(rulesOf(bucketWithLogPrefix(template, 'exports/'))['expire-current-objects'].ExpirationInDays).toBe(44);
    expect(rulesOf(bucketWithLogPrefix(template, 'snapshot-imports/'))['expire-current-objects'].ExpirationInDays).toBe(7);
    for (const bucket of Object.values(dataBuckets(template))) {
      expect(rulesOf(bucket)['expire-noncurrent-versions'].NoncurrentVersionExpiration.NoncurrentDays).toBe(90);
      expect(rulesOf(bucket)['abort-incomplete-multipart-uploads'].AbortIncompleteMultipartUpload.DaysAfterInitiation).toBe(2);
    }
    expect(rulesOf(Object.values(logBuckets(template))[0])['expire-access-logs'].ExpirationInDays).toBe(30);
  });

  test('removalPolicy destroy with autoDeleteObjects is an explicit opt-in', () => {
    const { template } = build({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Delete');
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 6);
  });

  test('the KMS key outlives buckets that may survive: retained unless the buckets are emptied too', () => {
    const keyPolicy = (props: ConvexStorageProps) => (Object.values(build({ encryption: StorageEncryption.KMS, ...props }).template.findResources('AWS::KMS::Key'))[0] as any).DeletionPolicy;
    // destroy alone: a bucket with objects fails to delete and stays, so its key must stay too.
    expect(keyPolicy({ removalPolicy: RemovalPolicy.DESTROY })).toBe('Retain');
    expect(keyPolicy({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true })).toBe('Delete');
  });

  test('logs to a bucket the user passes and creates none', () => {
    const { template } = build(undefined, (s) => ({ accessLogsBucket: s3.Bucket.fromBucketName(s, 'Logs', 'central-access-logs') }));
    template.resourceCountIs('AWS::S3::Bucket', 5);
    for (const bucket of Object.values(dataBuckets(template))) {
      expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toBe('central-access-logs');
    }
  });

  test('warns about dotted bucket names, which break virtual-hosted TLS', () => {
    const { stack } = build({ bucketNamePrefix: 'acme.convex' });
    Annotations.fromStack(stack).hasWarning('/Test/Storage', Match.stringLikeRegexp('Bucket names with dots \\(acme.convex-exports, acme.convex-snapshot-imports, .*\\) fail TLS'));
  });
});

describe('ConvexStorage validation', () => {
  test('exports retention below 44 days explains why: the backend lists an export until it deletes it', () => {
    expect(errorOf({ exportsRetentionDays: 43 })).toContain(
      'exportsRetentionDays is 43, below the minimum of 44 days: the backend keeps a finished export listed and downloadable until it deletes it itself, about 44 days after the request (it expires after 14 days and is deleted 30 days later)',
    );
    expect(() => build({ exportsRetentionDays: 44 })).not.toThrow();
  });

  test('imports retention below 7 days explains why: the backend may read an import for 7 days', () => {
    expect(errorOf({ importsRetentionDays: 6 })).toContain(
      'importsRetentionDays is 6, below the minimum of 7 days: the backend may read an uploaded import for up to 7 days while it processes it',
    );
    expect(() => build({ importsRetentionDays: 7 })).not.toThrow();
  });

  test('retention options are rejected in the single layout', () => {
    const message = errorOf({ layout: StorageLayout.SINGLE, exportsRetentionDays: 30, importsRetentionDays: 5 });
    expect(message).toContain('exportsRetentionDays cannot be used with the single layout');
    expect(message).toContain('importsRetentionDays cannot be used with the single layout');
    expect(message).toContain('Use the separate layout');
  });

  test('a prefix that breaks a bucket-name rule names the prefix, the name and the rule', () => {
    expect(errorOf({ bucketNamePrefix: 'Acme_Prod' })).toContain(
      "bucketNamePrefix 'Acme_Prod' gives the bucket name 'Acme_Prod-exports', which may contain only lowercase letters, digits, dots and hyphens",
    );
    const tooLong = 'a'.repeat(47);
    expect(errorOf({ bucketNamePrefix: tooLong })).toContain(`'${tooLong}-snapshot-imports', which must be 3 to 63 characters long (it is 64)`);
    expect(errorOf({ bucketNamePrefix: 'xn--acme' })).toContain("must not begin with the reserved prefix 'xn--'");
    expect(errorOf({ bucketNamePrefix: '-acme' })).toContain('must begin and end with a lowercase letter or a digit');
  });

  test('collects every problem and throws once', () => {
    const message = errorOf({ exportsRetentionDays: 3, noncurrentVersionRetentionDays: 0, bucketNamePrefix: 'UPPER', autoDeleteObjects: true });
    expect(message.split('\n').filter((line) => line.startsWith('  - ')).length).toBeGreaterThanOrEqual(8);
    expect(message).toContain('noncurrentVersionRetentionDays must be a whole number of days, 1 or more (got 0)');
    expect(message).toContain('autoDeleteObjects needs removalPolicy RemovalPolicy.DESTROY');
  });

  test('conflicting options', () => {
    expect(errorOf({ bucketNames: { files: 'a-b-c', modules: 'a-b-c' } })).toContain("gives the bucket name 'a-b-c', already used by bucketNames.modules");
    expect(errorOf({ singleBucketName: 'one-bucket' })).toContain('singleBucketName applies to the single layout');
    expect(errorOf({ layout: StorageLayout.SINGLE, bucketNames: { files: 'x-files' } })).toContain('bucketNames applies to the separate layout');
    expect(errorOf({ accessLogRetentionDays: 90, accessLogsBucket: {} as s3.IBucket })).toContain('accessLogRetentionDays applies only to the log bucket this construct creates');
  });

  test('an encryption key with SSE-S3 encryption is a contradiction', () => {
    const stack = unitTestStack();
    expect(() => new ConvexStorage(stack, 'Storage', { encryption: StorageEncryption.S3_MANAGED, encryptionKey: new kms.Key(stack, 'K') }))
      .toThrow("encryptionKey is set but encryption is 's3'");
  });

  test('an app without the bucket-policy log delivery flag gets the flag named, not an ACL error', () => {
    const stack = new Stack(new App({ outdir: testOutdir() }), 'Bare');
    expect(() => new ConvexStorage(stack, 'Storage')).toThrow('the feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy must be true');
    // With its own log bucket the construct needs no flag.
    const other = new Stack(new App({ outdir: testOutdir() }), 'Bare');
    expect(() => new ConvexStorage(other, 'Storage', { accessLogsBucket: s3.Bucket.fromBucketName(other, 'Logs', 'central-logs') })).not.toThrow();
  });

  test('unresolved tokens are not validated', () => {
    const stack = unitTestStack();
    const prefix = new CfnParameter(stack, 'Prefix').valueAsString;
    expect(() => new ConvexStorage(stack, 'Storage', { bucketNamePrefix: prefix })).not.toThrow();
  });
});
