/**
 * The deployable app, synthesized as `cdk synth` does it (the shared variants of
 * test/helpers/variants.ts; their cdk-nag and validation checks are in variants.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnResource, aws_s3 as s3 } from 'aws-cdk-lib';
import { readAppConfig } from '../../lib/app/app-config';
import { buildConvexStorageApp } from '../../lib/app/build-app';
import { STORAGE_KINDS } from '../../lib/storage-kinds';
import { testApp, testOutdir } from '../helpers/cdk-app';
import { VariantName, synthesizedVariant as variant } from '../helpers/variants';

describe.each(['default', 'kms', 'single'] as VariantName[])('the %s app', (name) => {
  test('matches its snapshot', () => {
    expect(variant(name).templateJson).toMatchSnapshot();
  });

  test('outputs each backend variable under its PascalCase key, described by the variable name', () => {
    const outputs = variant(name).templateJson.Outputs as Record<string, { Description: string }>;
    for (const envVar of ['AWS_REGION', ...STORAGE_KINDS.map((k) => k.envVar)]) {
      const key = envVar.split('_').map((w) => w[0] + w.slice(1).toLowerCase()).join('');
      expect(outputs[key]?.Description.startsWith(`${envVar}: `)).toBe(true);
    }
  });
});

test('the default app outputs the six storage variables, the role and the .env block; KMS adds AWS_S3_DISABLE_SSE=true', () => {
  expect(Object.keys(variant('default').templateJson.Outputs).sort()).toEqual([
    'AwsRegion', 'BackendRoleArn', 'DotEnv', 'S3StorageExportsBucket', 'S3StorageFilesBucket', 'S3StorageModulesBucket', 'S3StorageSearchBucket', 'S3StorageSnapshotImportsBucket',
  ]);
  expect(variant('kms').templateJson.Outputs.AwsS3DisableSse.Value).toBe('true');
});

test('each variable names the bucket of its own kind, with that kind\'s lifecycle and delete right (written out by hand)', () => {
  // Independent of the storage table on purpose: a row swapped in the table must fail here.
  const { Outputs, Resources } = variant('default').templateJson;
  const expected: Record<string, [string, string, number | undefined]> = {
    S3StorageExportsBucket: ['StorageExportsBucket1F25C8FC', 'exports/', 45],
    S3StorageSnapshotImportsBucket: ['StorageSnapshotImportsBucket92514FD0', 'snapshot-imports/', 30],
    S3StorageModulesBucket: ['StorageModulesBucketCFB1A89F', 'modules/', undefined],
    S3StorageFilesBucket: ['StorageFilesBucket28699C44', 'files/', undefined],
    S3StorageSearchBucket: ['StorageSearchBucketE1882C3F', 'search/', undefined],
  };
  for (const [output, [bucketId, logPrefix, expiryDays]] of Object.entries(expected)) {
    expect(Outputs[output].Value).toEqual({ Ref: bucketId });
    const bucket = Resources[bucketId].Properties;
    expect(bucket.LoggingConfiguration.LogFilePrefix).toBe(logPrefix);
    const expiry = bucket.LifecycleConfiguration.Rules.find((r: any) => r.ExpirationInDays !== undefined);
    expect(expiry?.ExpirationInDays).toBe(expiryDays);
  }
  const policy: any = Object.values(Resources).find((r: any) => r.Type === 'AWS::IAM::ManagedPolicy');
  const deletes = policy.Properties.PolicyDocument.Statement.filter((s: any) => [].concat(s.Action).includes('s3:DeleteObject' as never));
  expect(deletes.map((s: any) => s.Resource)).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['StorageExportsBucket1F25C8FC', 'Arn'] }, '/*']] }]);
});

test('bucket logical IDs never change: a change here would replace buckets and strand their data', () => {
  const bucketIds = (name: VariantName) => Object.entries(variant(name).templateJson.Resources as Record<string, any>)
    .filter(([, r]) => r.Type === 'AWS::S3::Bucket').map(([id]) => id).sort();
  expect(bucketIds('default')).toEqual([
    'StorageAccessLogsBucket06E03AA1',
    'StorageExportsBucket1F25C8FC',
    'StorageFilesBucket28699C44',
    'StorageModulesBucketCFB1A89F',
    'StorageSearchBucketE1882C3F',
    'StorageSnapshotImportsBucket92514FD0',
  ]);
  expect(bucketIds('kms')).toEqual(bucketIds('default'));
  expect(bucketIds('single')).toEqual(['StorageAccessLogsBucket06E03AA1', 'StorageStorageBucketDC877B11']);
});

test('the stage names the stack, and the prefix names the buckets', () => {
  const app = testApp({ stage: 'prod', bucketNamePrefix: 'acme-convex-prod' }, { builtinCloudFormationValidation: false });
  const { stack } = buildConvexStorageApp(app);
  expect(stack.stackName).toBe('ConvexStorage-prod');
  const names = Object.values(stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::S3::Bucket'))
    .map((b) => stack.resolve((b as any).bucketName)).filter(Boolean).sort();
  expect(names).toEqual(['acme-convex-prod-exports', 'acme-convex-prod-files', 'acme-convex-prod-modules', 'acme-convex-prod-search', 'acme-convex-prod-snapshot-imports']);
});

test('stage prod gets termination protection; the terminationProtection key sets it for any stage', () => {
  const protectedStack = (context: Record<string, unknown>) => buildConvexStorageApp(testApp(context, { builtinCloudFormationValidation: false })).stack.terminationProtection;
  expect(protectedStack({})).toBe(false);
  expect(protectedStack({ stage: 'prod' })).toBe(true);
  expect(protectedStack({ stage: 'prod', terminationProtection: 'false' })).toBe(false);
  expect(protectedStack({ stage: 'staging', terminationProtection: 'true' })).toBe(true);
  expect(() => protectedStack({ terminationProtection: 'yes' })).toThrow("terminationProtection: 'yes' is not valid; accepted values are 'true', 'false'.");
});

test('objectLock and objectLockRetentionDays reach the storage; its conflicts are named in the first round', () => {
  expect(readAppConfig(testApp({ objectLock: 'true', objectLockRetentionDays: '20' })).storage).toMatchObject({ objectLock: true, objectLockRetentionDays: 20 });
  expect(() => readAppConfig(testApp({ objectLock: 'true', removalPolicy: 'destroy', layout: 'single' }))).toThrow(/objectLock applies to the separate layout[\s\S]*objectLock cannot be used with removalPolicy/);
});

test('the four cdk-nag packs are live: an unhardened bucket fails synthesis in each', () => {
  // A negative control: without it, the clean reports of the variants could mean the packs never
  // ran. (The CloudFormation validation's is in variants.test.ts, where that validation runs.)
  const app = testApp({}, { builtinCloudFormationValidation: false });
  const { stack } = buildConvexStorageApp(app);
  new s3.CfnBucket(stack, 'Unhardened');
  let message = '';
  try {
    app.synth();
  } catch (e) {
    message = (e as Error).message;
  }
  for (const finding of ['AwsSolutions-S1', 'NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled', 'PCI.DSS.321-S3BucketLoggingEnabled']) {
    expect(message).toContain(finding);
  }
  // ...and only for the new bucket: the stack's own resources stay acknowledged.
  expect(message).not.toMatch(/ConvexStorage-dev\/Storage\//);
});

describe('context validation', () => {
  const problemsOf = (context: Record<string, unknown>) => {
    try {
      readAppConfig(testApp(context));
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the context to be rejected');
  };

  test.each([
    [{ encryption: 'aes' }, "encryption: 'aes' is not valid; accepted values are 's3', 'kms'."],
    [{ layout: 'one' }, "layout: 'one' is not valid; accepted values are 'separate', 'single'."],
    [{ removalPolicy: 'delete' }, "removalPolicy: 'delete' is not valid; accepted values are 'retain', 'destroy'."],
    [{ exportsRetentionDays: 'ten' }, "exportsRetentionDays: 'ten' is not valid; expected a whole number, 1 or more."],
    [{ importsRetentionDays: '1.5' }, "importsRetentionDays: '1.5' is not valid; expected a whole number, 1 or more."],
    [{ noncurrentVersionRetentionDays: 0 }, "noncurrentVersionRetentionDays: '0' is not valid; expected a whole number, 1 or more."],
    [{ stage: 'Prod' }, "stage: 'Prod' is not valid; expected 1 to 24 lowercase letters, digits or hyphens"],
    [{ bucketNamePrefix: '' }, "bucketNamePrefix: '' is not valid; expected a non-empty string."],
  ])('%j is rejected with a message naming the key and the accepted values', (context, message) => {
    expect(problemsOf(context)).toContain(message);
  });

  test('a misspelt key is rejected with the nearest key, not ignored', () => {
    expect(problemsOf({ encrytion: 'kms' })).toContain("encrytion (given on the command line with -c): not a context key of this app. Did you mean 'encryption'?");
    // CDK's own keys (feature flags, lookups) are not the app's business.
    expect(() => readAppConfig(testApp({ 'availability-zones:account=1:region=x': ['a'] }))).not.toThrow();
  });

  test('the construct\'s checks run with the context checks, in one round', () => {
    const message = problemsOf({ stage: 'Prod', layout: 'single', exportsRetentionDays: '7', bucketNamePrefix: 'Acme' });
    expect(message).toContain("stage: 'Prod' is not valid");
    expect(message).toContain('exportsRetentionDays cannot be used with the single layout');
    expect(message).toContain('exportsRetentionDays is 7, below the minimum of 44 days');
    expect(message).toContain("bucketNamePrefix 'Acme' gives the bucket name 'Acme-storage'");
  });

  test('the app, run as cdk.json runs it (ts-node --swc), prints the problems without a stack trace and exits 1', () => {
    const root = join(__dirname, '..', '..');
    const command = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { app: string }).app;
    expect(command).toBe('node node_modules/ts-node/dist/bin.js --swc bin/app.ts');
    const run = spawnSync(command, {
      shell: true,
      cwd: root,
      // ts-node's compile cache would stay in the run's temp directory.
      env: { ...process.env, DISABLE_V8_COMPILE_CACHE: '1', CDK_CONTEXT_JSON: JSON.stringify({ encryption: 'aes' }), CDK_OUTDIR: testOutdir() },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("encryption: 'aes' is not valid; accepted values are 's3', 'kms'.");
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  test('every bad value is reported at once', () => {
    const message = problemsOf({ encryption: 'aes', layout: 'one', stage: '!' });
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });

  test('numbers given with -c arrive as strings and are accepted', () => {
    const config = readAppConfig(testApp({ exportsRetentionDays: '60', encryption: 'kms', layout: 'separate', removalPolicy: 'destroy' }));
    expect(config.storage).toMatchObject({ exportsRetentionDays: 60, encryption: 'kms', layout: 'separate', removalPolicy: 'destroy' });
    expect(config.stackName).toBe('ConvexStorage-dev');
  });

  test('the ECS task uses its task role: access=user and trustedPrincipal are rejected with ecs=true', () => {
    const build = (context: Record<string, unknown>) => () => buildConvexStorageApp(testApp({ ecs: 'true', ...context }, { builtinCloudFormationValidation: false }));
    expect(build({ access: 'user' })).toThrow('access user creates access keys for a backend outside AWS');
    expect(build({ trustedPrincipal: 'ec2.amazonaws.com' })).toThrow('trustedPrincipal configures the stand-alone backend role');
  });

  test('an exports retention below the backend minimum fails the app with the reason', () => {
    const app = testApp({ exportsRetentionDays: '10' }, { builtinCloudFormationValidation: false });
    expect(() => buildConvexStorageApp(app)).toThrow('exportsRetentionDays is 10, below the minimum of 44 days');
  });
});
