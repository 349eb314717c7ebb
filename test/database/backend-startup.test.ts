/**
 * The backend container with a ConvexPostgres, as the task definition renders it: its secrets and
 * environment, and its entrypoint run under `sh` with stand-in secret values around a stand-in
 * backend, which records the POSTGRES_URL and the CA file it starts with.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexBackendTaskDefinition, ConvexPostgres, ConvexStorage } from '../../lib';
import { DATABASE_CA_BUNDLE_VARIABLE, DATABASE_CA_FILE_PATH, databaseCaFileStep } from '../../lib/ecs/entrypoint/database-ca-bundle';
import { entrypointScript } from '../../lib/ecs/entrypoint/backend-entrypoint';
import { databaseUrlStartupScript } from '../../lib/database/database-url-script';
import { RDS_CA_CERTIFICATES } from '../../lib/database/rds-ca-certificates.generated';
import { rdsCaBundle } from '../../lib/database/rds-ca-bundles';
import { EntrypointRun } from '../helpers/entrypoint-run';
import { unitTestApp } from '../helpers/cdk-app';

const REGION = 'eu-west-1';

function build(env?: { account: string; region: string }) {
  const stack = new Stack(unitTestApp(), 'Test', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { restrictDefaultSecurityGroup: false, maxAzs: 2 });
  const storage = new ConvexStorage(stack, 'Storage', { instanceName: 'acme-prod' });
  const tasks = new ec2.SecurityGroup(stack, 'Tasks', { vpc });
  const database = new ConvexPostgres(stack, 'Database', { vpc, backendConnections: tasks, instanceName: 'acme-prod' });
  const backend = new ConvexBackendTaskDefinition(stack, 'Backend', {
    storage, database, cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com',
  });
  const json = Template.fromStack(stack).toJSON();
  const taskDefinition = Object.values(json.Resources).find((r: any) => r.Type === 'AWS::ECS::TaskDefinition') as any;
  const container = taskDefinition.Properties.ContainerDefinitions.find((c: any) => c.Name === 'convex-backend');
  return { stack, database, backend, json, container };
}

const { json, container } = build({ account: '123456789012', region: REGION });
const logicalId = (type: string) => Object.entries(json.Resources).find(([, r]: [string, any]) => r.Type === type)![0];

test('the container gets the user and password as secrets, host, port and CA certificates as plain values, never a URL', () => {
  const attachment = logicalId('AWS::SecretsManager::SecretTargetAttachment');
  const instance = logicalId('AWS::RDS::DBInstance');
  const secrets = Object.fromEntries(container.Secrets.map((s: any) => [s.Name, s.ValueFrom]));
  expect(secrets.POSTGRES_URL_USERNAME).toEqual({ 'Fn::Join': ['', [{ Ref: attachment }, ':username::']] });
  expect(secrets.POSTGRES_URL_PASSWORD).toEqual({ 'Fn::Join': ['', [{ Ref: attachment }, ':password::']] });
  const environment = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
  expect(environment.POSTGRES_URL_HOST).toEqual({ 'Fn::GetAtt': [instance, 'Endpoint.Address'] });
  expect(environment.POSTGRES_URL_PORT).toEqual({ 'Fn::GetAtt': [instance, 'Endpoint.Port'] });
  expect(environment[DATABASE_CA_BUNDLE_VARIABLE]).toBe(rdsCaBundle(REGION));
  for (const names of [Object.keys(secrets), Object.keys(environment)]) {
    expect(names).not.toContain('POSTGRES_URL');
    expect(names).not.toContain('DO_NOT_REQUIRE_SSL');
  }
  expect(environment.INSTANCE_NAME).toBe('acme-prod');
});

/** Every string in a template, with where it is. */
function strings(value: unknown, path = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

/**
 * Strings that could carry a database credential: any mention of a password that is not a
 * reference to Secrets Manager or the name of the variable ECS fills from it, and any database
 * URL with user information that is not the start-up step building one.
 */
function credentialLeaks(template: unknown): string[] {
  return strings(template).filter(([, text]) => {
    const withoutNames = text.replace(/POSTGRES_URL_PASSWORD|:SecretString:password::\}\}|:password::$/g, '');
    const password = /password/i.test(withoutNames) && withoutNames !== 'password';
    const url = /(postgres|postgresql|mysql):\/\/[^\s]*@/.test(text) && !text.includes('$(convex_url_encode');
    return password || url;
  }).map(([path, text]) => `${path}: ${text.slice(0, 80)}`);
}

test('no secret value anywhere in the template: the password is generated and kept in Secrets Manager only', () => {
  // The entrypoint script is constant text: the wrapper, the CA-file step and the URL step, no value.
  const script = container.EntryPoint[2];
  expect(script).toBe(entrypointScript([databaseCaFileStep(), { description: "build POSTGRES_URL from the database secret's user and password", script: databaseUrlStartupScript('POSTGRES_URL') }]));
  const rest = JSON.parse(JSON.stringify(json).split(JSON.stringify(script)).join('"(entrypoint script)"'));
  expect(credentialLeaks(rest)).toEqual([]);
  const instance = json.Resources[logicalId('AWS::RDS::DBInstance')].Properties;
  expect(instance.MasterUserPassword).toEqual({ 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: logicalId('AWS::SecretsManager::Secret') }, ':SecretString:password::}}']] });
  const secret = json.Resources[logicalId('AWS::SecretsManager::Secret')].Properties;
  expect(secret.SecretString).toBeUndefined();
  expect(secret.GenerateSecretString.GenerateStringKey).toBe('password');
  // The check finds a URL or a password put in plain text.
  expect(credentialLeaks({ Environment: [{ Name: 'POSTGRES_URL', Value: 'postgres://convex:Xq3v@db:5432' }] })).toHaveLength(1);
  expect(credentialLeaks({ MasterUserPassword: 'Password123' })).toHaveLength(1);
});

test('the entrypoint, run under sh with stand-in secrets, starts the backend with the exact URL and a CA file of the pinned certificates', async () => {
  const [shell, flag, script, name] = container.EntryPoint as string[];
  expect([shell, flag, name]).toEqual(['/bin/sh', '-c', 'convex-entrypoint']);
  // The CA step writes to /convex in the image; here, to a temporary directory.
  expect(script).toContain(`'${DATABASE_CA_FILE_PATH}'`);
  const directory = mkdtempSync(join(tmpdir(), 'cdk-convex-db-start-'));
  const caFile = join(directory, 'database-ca-bundle.pem');
  const environment = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
  const stand_ins: Record<string, string> = {
    POSTGRES_URL_USERNAME: 'convex',
    POSTGRES_URL_PASSWORD: 'Xq3vP9tL2mWc7rYb5nKd8sHf4jGa6e',
    POSTGRES_URL_HOST: 'test-database.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com',
    POSTGRES_URL_PORT: '5432',
    [DATABASE_CA_BUNDLE_VARIABLE]: environment[DATABASE_CA_BUNDLE_VARIABLE],
  };
  const wrapper = new EntrypointRun({
    script: script.split(`'${DATABASE_CA_FILE_PATH}'`).join(`'${caFile}'`),
    env: stand_ins,
    recordEnv: ['POSTGRES_URL', 'PG_CA_FILE', 'POSTGRES_URL_USERNAME', 'POSTGRES_URL_PASSWORD', 'POSTGRES_URL_HOST', 'POSTGRES_URL_PORT', DATABASE_CA_BUNDLE_VARIABLE],
    exitAtOnce: true,
  });
  try {
    expect(await wrapper.exited).toEqual({ code: 0, signal: null });
    expect(wrapper.events().find((e) => e.event === 'start')!.env).toEqual({
      POSTGRES_URL: 'postgres://convex:Xq3vP9tL2mWc7rYb5nKd8sHf4jGa6e@test-database.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432',
      PG_CA_FILE: caFile,
      POSTGRES_URL_USERNAME: null, POSTGRES_URL_PASSWORD: null, POSTGRES_URL_HOST: null, POSTGRES_URL_PORT: null,
      [DATABASE_CA_BUNDLE_VARIABLE]: null,
    });
    // The file the backend reads as PG_CA_FILE: exactly the pinned roots of the region.
    const written = readFileSync(caFile, 'utf8');
    const certificates = [...written.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));
    expect(certificates.map((c) => c.fingerprint256)).toEqual(RDS_CA_CERTIFICATES[REGION].map((pem) => new X509Certificate(pem).fingerprint256));
    expect(certificates.map((c) => /^CN=(.*)$/m.exec(c.subject)![1])).toEqual(['RSA2048', 'RSA4096', 'ECC384'].map((kind) => `Amazon RDS ${REGION} Root CA ${kind} G1`));
    // Nothing the wrapper logged carries the password.
    expect(wrapper.stderr).not.toContain(stand_ins.POSTGRES_URL_PASSWORD);
    expect(wrapper.stderr).toContain('start-up step: build POSTGRES_URL');
  } finally {
    await wrapper.cleanup();
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a missing password secret stops the container before the backend starts', async () => {
  const script = (container.EntryPoint as string[])[2];
  const wrapper = new EntrypointRun({
    script: script.split(`'${DATABASE_CA_FILE_PATH}'`).join("'/dev/null'"),
    env: { POSTGRES_URL_USERNAME: 'convex', POSTGRES_URL_HOST: 'h', POSTGRES_URL_PORT: '5432', [DATABASE_CA_BUNDLE_VARIABLE]: rdsCaBundle(REGION)! },
  });
  try {
    expect((await wrapper.exited).code).toBe(1);
    expect(wrapper.events()).toEqual([]);
    expect(wrapper.stderr).toContain('POSTGRES_URL_PASSWORD is empty');
  } finally {
    await wrapper.cleanup();
  }
});

test('a stack without a region: the container\'s CA certificates are looked up by region at deployment', () => {
  const agnostic = build();
  const environment = Object.fromEntries(agnostic.container.Environment.map((e: any) => [e.Name, e.Value]));
  expect(environment[DATABASE_CA_BUNDLE_VARIABLE]).toEqual({ 'Fn::FindInMap': ['ConvexRdsCaBundles', { Ref: 'AWS::Region' }, 'Pem'] });
  expect(agnostic.json.Mappings.ConvexRdsCaBundles[REGION].Pem).toBe(rdsCaBundle(REGION));
});

test('doNotRequireSsl is refused with a database whose TLS is verified', () => {
  const stack = new Stack(unitTestApp(), 'Test', { env: { account: '123456789012', region: REGION } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { restrictDefaultSecurityGroup: false, maxAzs: 2 });
  const database = new ConvexPostgres(stack, 'Database', { vpc, backendConnections: new ec2.SecurityGroup(stack, 'Tasks', { vpc }) });
  expect(() => new ConvexBackendTaskDefinition(stack, 'Backend', { storage: new ConvexStorage(stack, 'Storage'), database, doNotRequireSsl: true }))
    .toThrow('doNotRequireSsl is set but the database is a connection whose TLS is verified');
});
