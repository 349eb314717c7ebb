/**
 * `convex-storage env --outputs-file` fed the outputs of the real, synthesized storage stack, so
 * any drift between what the stack outputs and what the CLI writes fails here. The outputs'
 * CloudFormation values are turned into plausible concrete strings, as `cdk deploy` would.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { BackendAccessMode } from '../../lib/access/access-options';
import { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, INSTANCE_NAME, outputKeyFor, secretArnOutputKeyFor } from '../../lib/backend-env';
import { parseDotEnv } from '../../lib/dotenv';
import { ConvexStorageStack } from '../../lib/stack/convex-storage-stack';
import { StorageEncryption } from '../../lib/storage/convex-storage';
import { unitTestApp } from '../helpers/cdk-app';
import { cli, isolateAwsEnvWithTestKeys, tempDir } from './helpers';

const STACK = 'ConvexStorage-test';
const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';
const SECRET_VALUE = 'wJalr/EXAMPLE+synthesized+secret';

type CfnValue = string | number | boolean | { [key: string]: CfnValue } | CfnValue[];

/**
 * Resolves the intrinsics CloudFormation outputs use (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
 * Fn::Split) to fake physical values of the right shape. Anything else throws, so a new kind of
 * output value is noticed rather than passed through as an object.
 */
function resolver(resources: Record<string, { Type: string }>): (value: CfnValue) => string {
  const physicalId = (logicalId: string): string => {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': STACK,
    };
    if (pseudo[logicalId] !== undefined) {
      return pseudo[logicalId];
    }
    const type = resources[logicalId]?.Type;
    switch (type) {
      case 'AWS::S3::Bucket':
        return `${STACK}-${logicalId}-1a2b3c4d`.toLowerCase().slice(0, 63);
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${logicalId}-AbCdEf`;
      case 'AWS::IAM::AccessKey':
        return 'AKIASYNTHESIZED00001';
      case undefined:
        throw new Error(`Ref to '${logicalId}', which is not a resource of the template`);
      default:
        return `${logicalId}-physical-id`;
    }
  };
  const resolve = (value: CfnValue): string => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return String(value);
    }
    if (Array.isArray(value)) {
      throw new Error(`A list where a string was expected: ${JSON.stringify(value)}`);
    }
    const [fn, arg] = Object.entries(value)[0] ?? [];
    switch (fn) {
      case 'Ref':
        return physicalId(arg as string);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        physicalId(logicalId);
        return `${logicalId}.${attribute}`;
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, CfnValue[]];
        return parts.map(resolve).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [CfnValue, CfnValue];
        const items = Array.isArray(list) ? list.map(resolve) : resolveList(list);
        return items[Number(resolve(index))];
      }
      default:
        throw new Error(`Unhandled intrinsic in an output value: ${JSON.stringify(value)}`);
    }
  };
  const resolveList = (value: CfnValue): string[] => {
    const [fn, arg] = Object.entries(value as Record<string, CfnValue>)[0] ?? [];
    if (fn === 'Fn::Split') {
      const [separator, source] = arg as [string, CfnValue];
      return resolve(source).split(separator);
    }
    throw new Error(`Unhandled list intrinsic: ${JSON.stringify(value)}`);
  };
  return resolve;
}

/** One synthesized variant: its `cdk deploy --outputs-file` JSON and the .env it must produce. */
function synthesize(props: ConstructorParameters<typeof ConvexStorageStack>[2]) {
  const app = unitTestApp();
  const stack = new ConvexStorageStack(app, STACK, props);
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string }>;
    Outputs: Record<string, { Value: CfnValue }>;
  };
  const resolve = resolver(template.Resources);
  const outputs = Object.fromEntries(Object.entries(template.Outputs).map(([key, output]) => [key, resolve(output.Value)]));

  // What the backend must get: the storage's backend environment (the source the outputs are
  // made from), plus the access key pair in user mode.
  const expected: Record<string, string> = {};
  for (const [name, value] of Object.entries(stack.storage.backendEnvironment)) {
    expected[name] = resolve(stack.resolve(value) as CfnValue);
  }
  if (stack.backendUser) {
    expected[AWS_ACCESS_KEY_ID] = resolve(stack.resolve(stack.backendUser.accessKey.accessKeyId) as CfnValue);
    expected[AWS_SECRET_ACCESS_KEY] = SECRET_VALUE;
  }
  return { outputs, outputsFile: JSON.stringify({ [STACK]: outputs }, null, 2), expected };
}

const VARIANTS = {
  'role mode, SSE-S3, instanceName my-app': synthesize({ storage: { instanceName: 'my-app' } }),
  'user mode, KMS, instanceName my-app': synthesize({
    storage: { instanceName: 'my-app', encryption: StorageEncryption.KMS },
    access: BackendAccessMode.USER,
  }),
};

const sm = mockClient(SecretsManagerClient);
let tmp: ReturnType<typeof tempDir>;

beforeAll(isolateAwsEnvWithTestKeys);
beforeEach(() => {
  sm.reset();
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());
afterAll(() => sm.restore());

const read = (name: string) => readFileSync(join(tmp.dir, name), 'utf8');

describe.each(Object.entries(VARIANTS))('%s', (_name, variant) => {
  beforeEach(() => {
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
      expect(input.SecretId).toBe(variant.outputs[secretArnOutputKeyFor(AWS_SECRET_ACCESS_KEY)]);
      return { SecretString: JSON.stringify({ [AWS_ACCESS_KEY_ID]: variant.expected[AWS_ACCESS_KEY_ID], [AWS_SECRET_ACCESS_KEY]: SECRET_VALUE }) };
    });
    writeFileSync(join(tmp.dir, 'cdk-outputs.json'), variant.outputsFile);
  });

  test('the stack outputs INSTANCE_NAME, and env writes exactly the expected variables', async () => {
    expect(variant.outputs[outputKeyFor(INSTANCE_NAME)]).toBe('my-app');
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(run.stderr).toContain('Wrote');
    expect(run.code).toBe(0);
    expect(Object.fromEntries(parseDotEnv(read('.env')))).toEqual(variant.expected);
    expect(sm.calls()).toHaveLength(variant.expected[AWS_SECRET_ACCESS_KEY] === undefined ? 0 : 1);
  });

  test('the written .env agrees with the stack\'s own DotEnv output (except the secret placeholder)', async () => {
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json', '--stack', STACK], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    const fromOutput = Object.fromEntries(parseDotEnv(variant.outputs.DotEnv));
    const written = Object.fromEntries(parseDotEnv(read('.env')));
    if (fromOutput[AWS_SECRET_ACCESS_KEY] !== undefined) {
      expect(fromOutput[AWS_SECRET_ACCESS_KEY]).toMatch(/^<read from Secrets Manager secret arn:aws:secretsmanager:/);
      fromOutput[AWS_SECRET_ACCESS_KEY] = written[AWS_SECRET_ACCESS_KEY];
    }
    expect(written).toEqual(fromOutput);
  });

  test('refuses to change a different INSTANCE_NAME already in the file, before writing anything', async () => {
    const existing = "# my backend\nINSTANCE_NAME='convex-prod' # set at first boot\nINSTANCE_SECRET='abc'\n";
    writeFileSync(join(tmp.dir, '.env'), existing);
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Refusing to write .*\.env: it has INSTANCE_NAME='convex-prod', stack ConvexStorage-test says 'my-app'\. Changing INSTANCE_NAME strands all data/);
    expect(read('.env')).toBe(existing);
    expect(readdirSync(tmp.dir).sort()).toEqual(['.env', 'cdk-outputs.json']);
    expect(existsSync(join(tmp.dir, '.env.bak'))).toBe(false);
  });

  test('keeps the same INSTANCE_NAME in place, and fills an empty one', async () => {
    writeFileSync(join(tmp.dir, '.env'), "INSTANCE_NAME='my-app'\nINSTANCE_SECRET='abc'\n");
    const same = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(same.code).toBe(0);
    expect(read('.env').split('\n').slice(0, 2)).toEqual(["INSTANCE_NAME='my-app'", "INSTANCE_SECRET='abc'"]);

    writeFileSync(join(tmp.dir, '.env'), 'INSTANCE_NAME=\n');
    const empty = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(empty.code).toBe(0);
    expect(parseDotEnv(read('.env')).get(INSTANCE_NAME)).toBe('my-app');
    expect(empty.stderr).not.toMatch(/warning/);
  });

  test('warns when the file already named buckets but no INSTANCE_NAME (a backend may have run as the default)', async () => {
    writeFileSync(join(tmp.dir, '.env'), `${Object.entries(variant.expected).filter(([k]) => k.startsWith('S3_STORAGE_')).map(([k, v]) => `${k}='${v}'`).join('\n')}\n`);
    const run = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: .*had no INSTANCE_NAME but already named buckets: a backend that ran with it used the default 'convex-self-hosted'/);
  });
});

test('a stack with object lock: env removes AWS_S3_DISABLE_CHECKSUMS=true from the file (S3 refuses uploads without checksums there)', async () => {
  const locked = synthesize({ storage: { objectLock: true } });
  writeFileSync(join(tmp.dir, 'cdk-outputs.json'), locked.outputsFile);
  writeFileSync(join(tmp.dir, '.env'), 'AWS_S3_DISABLE_CHECKSUMS=true\n');
  const run = await cli(['env', '--outputs-file', 'cdk-outputs.json'], { cwd: tmp.dir });
  expect(run.code).toBe(0);
  expect(parseDotEnv(read('.env')).has('AWS_S3_DISABLE_CHECKSUMS')).toBe(false);
  expect(run.stderr).toMatch(/removed: AWS_S3_DISABLE_CHECKSUMS \(AWS S3 returns the CRC32 checksums the backend asks for\)/);
});
