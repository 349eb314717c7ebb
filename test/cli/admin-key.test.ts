/**
 * `convex-storage admin-key`: every source (stack outputs + Secrets Manager, a secret file, a
 * .env file, the process environment), a key on stdout that the backend's checks accept for the
 * deployment, and clear refusals of bad input before any key is printed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { verifyAdminKey } from '../../lib/admin-key/admin-key';
import { BACKEND_OUTPUTS, outputKeyFor } from '../../lib/backend-env';
import { cli, mockStackClients } from './helpers';

const STACK = 'ConvexStorage-prod';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:BackendInstanceSecret1234-AbCdEf';
const SECRET = '4361726e697461732c206c69746572616c6c79206d65616e696e6720226c6974';
const NAME = 'convex-prod';

const { cfn, sm, tmp } = mockStackClients();

function stackWith(outputs: Record<string, string>): void {
  cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [{ StackName: STACK, CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
  });
}
const backendOutputs = { [BACKEND_OUTPUTS.instanceSecretArn]: SECRET_ARN, [BACKEND_OUTPUTS.instanceName]: NAME };

/** The single line on stdout, checked as the backend would check it. */
function keyOf(stdout: string, instanceName = NAME, instanceSecret = SECRET) {
  expect(stdout).toMatch(/^[^\n]+\n$/);
  const key = stdout.trimEnd();
  expect(key.startsWith(`${instanceName}|01`)).toBe(true);
  return verifyAdminKey(key, { instanceName, instanceSecret });
}

describe('--stack', () => {
  test('reads the secret by the ARN the stack outputs and prints only the key', async () => {
    stackWith(backendOutputs);
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: SECRET });
    const run = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    expect(keyOf(run.stdout)).toMatchObject({ readOnly: false, memberId: 0 });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([SECRET_ARN]);
    expect(run.stderr).toContain(`Admin key for INSTANCE_NAME '${NAME}' from stack '${STACK}'`);
    expect(run.stderr).not.toContain(SECRET);
    expect(run.stderr).not.toContain(run.stdout.trim().split('|')[1]);
  });

  test('--read-only issues a read-only key', async () => {
    stackWith(backendOutputs);
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const run = await cli(['admin-key', '--stack', STACK, '--read-only'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    expect(keyOf(run.stdout).readOnly).toBe(true);
    expect(run.stderr).toMatch(/^Read-only admin key/);
  });

  test('a JSON secret is read from the field the stack names', async () => {
    stackWith({ ...backendOutputs, [BACKEND_OUTPUTS.instanceSecretField]: 'secret' });
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ secret: SECRET, other: 'x' }) });
    const run = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    keyOf(run.stdout);
  });

  test('the storage\'s InstanceName output, or --instance-name, names an older stack\'s instance', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    stackWith({ [BACKEND_OUTPUTS.instanceSecretArn]: SECRET_ARN, [outputKeyFor('INSTANCE_NAME')]: 'from-storage' });
    const storage = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(storage.code).toBe(0);
    keyOf(storage.stdout, 'from-storage');

    stackWith({ [BACKEND_OUTPUTS.instanceSecretArn]: SECRET_ARN });
    const missing = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain(`no ${BACKEND_OUTPUTS.instanceName} output`);
    expect(missing.stderr).toContain('--instance-name');
    const given = await cli(['admin-key', '--stack', STACK, '--instance-name', 'given'], { cwd: tmp.dir });
    expect(given.code).toBe(0);
    keyOf(given.stdout, 'given');
  });

  test('refuses an --instance-name that differs from the stack\'s', async () => {
    stackWith(backendOutputs);
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const run = await cli(['admin-key', '--stack', STACK, '--instance-name', 'convex-dev'], { cwd: tmp.dir });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(`--instance-name 'convex-dev' differs from INSTANCE_NAME '${NAME}' in stack '${STACK}'`);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('a stack without the backend, a bad secret value, and a denied read fail with what to do', async () => {
    stackWith({ [outputKeyFor('INSTANCE_NAME')]: NAME });
    const noBackend = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(noBackend).toMatchObject({ code: 1, stdout: '' });
    expect(noBackend.stderr).toContain(`no ${BACKEND_OUTPUTS.instanceSecretArn} output`);
    expect(noBackend.stderr).toContain('-c ecs=true');

    stackWith(backendOutputs);
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET.slice(2) });
    const short = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(short).toMatchObject({ code: 1, stdout: '' });
    expect(short.stderr).toContain('has 62 hex characters (31 bytes); it must be exactly 64');
    expect(short.stderr).toContain(SECRET_ARN);

    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const denied = await cli(['admin-key', '--stack', STACK], { cwd: tmp.dir });
    expect(denied).toMatchObject({ code: 1, stdout: '' });
    expect(denied.stderr).toContain(`Cannot read the instance secret ${SECRET_ARN} (secretsmanager:GetSecretValue): access denied`);
  });
});

describe('files and the environment', () => {
  test('--instance-name with --instance-secret-file (trailing newline, uppercase, 0x)', async () => {
    const file = join(tmp.dir, 'secret.txt');
    writeFileSync(file, `0x${SECRET.toUpperCase()}\n`);
    const run = await cli(['admin-key', '--instance-name', NAME, '--instance-secret-file', 'secret.txt'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    keyOf(run.stdout);
    expect(cfn.calls()).toHaveLength(0);
  });

  test('--env-file reads INSTANCE_NAME and INSTANCE_SECRET; a missing name falls back to the image default with a note', async () => {
    writeFileSync(join(tmp.dir, '.env'), `INSTANCE_NAME='${NAME}'\nINSTANCE_SECRET=${SECRET}\n`);
    const named = await cli(['admin-key', '--env-file', '.env'], { cwd: tmp.dir });
    expect(named.code).toBe(0);
    keyOf(named.stdout);

    writeFileSync(join(tmp.dir, 'nameless.env'), `INSTANCE_SECRET=${SECRET}\n`);
    const nameless = await cli(['admin-key', '--file', 'nameless.env'], { cwd: tmp.dir });
    expect(nameless.code).toBe(0);
    keyOf(nameless.stdout, 'convex-self-hosted');
    expect(nameless.stderr).toContain("using the image's default 'convex-self-hosted'");

    const mismatch = await cli(['admin-key', '--env-file', '.env', '--instance-name', 'other'], { cwd: tmp.dir });
    expect(mismatch).toMatchObject({ code: 1, stdout: '' });
    expect(mismatch.stderr).toContain("--instance-name 'other' differs from INSTANCE_NAME 'convex-prod'");
  });

  test('--process-env', async () => {
    const run = await cli(['admin-key', '--process-env', '--read-only'], { cwd: tmp.dir, env: { INSTANCE_NAME: NAME, INSTANCE_SECRET: SECRET } });
    expect(run.code).toBe(0);
    expect(keyOf(run.stdout).readOnly).toBe(true);
    const none = await cli(['admin-key', '--process-env'], { cwd: tmp.dir, env: { INSTANCE_NAME: NAME } });
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toContain('the process environment has no INSTANCE_SECRET');
  });

  test.each([
    [['--instance-name', '', '--instance-secret-file', 's'], 'INSTANCE_NAME is empty'],
    [['--instance-name', 'a|b', '--instance-secret-file', 's'], "contains '|'"],
    [['--instance-name', NAME, '--instance-secret-file', 'short'], 'has 8 hex characters (4 bytes)'],
    [['--instance-name', NAME, '--instance-secret-file', 'missing'], '--instance-secret-file: no file at'],
  ])('admin-key %j fails before printing anything', async (args, message) => {
    writeFileSync(join(tmp.dir, 's'), SECRET);
    writeFileSync(join(tmp.dir, 'short'), 'abcdef01');
    const run = await cli(['admin-key', ...args], { cwd: tmp.dir });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toContain(SECRET);
  });
});

describe('the command line', () => {
  test.each([
    [[], 'Say where the instance secret comes from'],
    [['--stack', STACK, '--process-env'], '--stack and --process-env are different sources'],
    [['--instance-secret-file', 's'], 'pass --instance-name NAME too'],
    [['--process-env', '--region', 'eu-west-1'], '--region applies to --stack only'],
    [['--env-file', 'a', '--file', 'b'], 'same option and name different files'],
    [['--secret', 'x'], "Unknown option '--secret'"],
  ])('admin-key %j is a usage error (exit 2)', async (args, message) => {
    const run = await cli(['admin-key', ...args], { cwd: tmp.dir });
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain(message);
    expect(cfn.calls()).toHaveLength(0);
  });

  test('--help shows the sources and the deploy walkthrough', async () => {
    const run = await cli(['admin-key', '--help'], { cwd: tmp.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('CONVEX_SELF_HOSTED_ADMIN_KEY=$(npx convex-storage admin-key --stack ConvexStorage-prod)');
    for (const flag of ['--stack', '--instance-name', '--instance-secret-file', '--env-file', '--process-env', '--read-only', '--region']) {
      expect(run.stdout).toContain(flag);
    }
    const main = await cli(['--help'], { cwd: tmp.dir });
    expect(main.stdout).toContain('admin-key');
  });
});
