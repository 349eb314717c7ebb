/**
 * The CDK's own context keys are never "not a context key of this app", and a key that is not
 * ours says which file it came from. The CDK CLI of this project writes cdk.context.json and
 * passes the merged context to a stand-in app that records it: what the real app would get.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, cx_api as cxapi } from 'aws-cdk-lib';
import { CONTEXT_KEYS, readAppConfig } from '../../lib/app/app-config';
import { CDK_CONTEXT_KEYS_WITHOUT_SEPARATOR, cdkContextFiles, isCdkContextKey } from '../../lib/app/context';
import { appContext, testOutdir } from '../helpers/cdk-app';

const ROOT = join(__dirname, '..', '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');

let project: string;
let home: string;
/** The context the CLI handed to the app (CDK_CONTEXT_JSON). */
let contextFromCli: Record<string, unknown>;

/** Runs the project's CDK CLI in the scratch project, offline and away from the real home. */
function cdk(...args: string[]): void {
  const run = spawnSync(CDK, args, {
    cwd: project,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: home,
      CDK_HOME: join(home, '.cdk'),
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(home, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
      CONTEXT_DUMP: join(project, 'context.json'),
    },
  });
  if (run.error) throw run.error;
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'cdk-context-'));
  home = join(project, 'home');
  mkdirSync(home);
  // The stand-in app records its context; the CLI then misses the assembly, which is fine here.
  writeFileSync(join(project, 'app.js'), [
    "const fs = require('fs');",
    "const json = process.env.CDK_CONTEXT_JSON ?? fs.readFileSync(process.env.CONTEXT_OVERFLOW_LOCATION_ENV, 'utf8');",
    'fs.writeFileSync(process.env.CONTEXT_DUMP, json);',
  ].join('\n'));
  writeFileSync(join(project, 'cdk.json'), JSON.stringify({ app: 'node app.js', context: { ...appContext(), stage: 'staging' } }));
  writeFileSync(join(home, '.cdk.json'), JSON.stringify({ context: { 'layuot': 'single' } }));
  cdk('acknowledge', '34892');
  cdk('cli-telemetry', '--disable');
  cdk('synth', '--no-notices', '-o', join(project, 'cdk.out'), '-c', 'encryption=kms', '-c', 'stagee=prod');
  contextFromCli = JSON.parse(readFileSync(join(project, 'context.json'), 'utf8')) as Record<string, unknown>;
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

function problemsOf(context: Record<string, unknown>): string {
  try {
    readAppConfig(new App({ context, outdir: testOutdir() }), { contextFiles: () => cdkContextFiles(project, home) });
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('the CLI wrote its own keys to cdk.context.json and passed them, with its settings, to the app', () => {
  expect(JSON.parse(readFileSync(join(project, 'cdk.context.json'), 'utf8'))).toEqual({ 'acknowledged-issue-numbers': [34892], 'cli-telemetry': false });
  expect(contextFromCli).toMatchObject({
    'acknowledged-issue-numbers': [34892], 'cli-telemetry': false, 'aws:cdk:bundling-stacks': ['**'], stage: 'staging', encryption: 'kms',
  });
});

test('after cdk acknowledge and cdk cli-telemetry, the app accepts every key the CLI passed except the misspelt ones', () => {
  const lines = problemsOf(contextFromCli).split('\n').filter((l) => l.startsWith('  - '));
  expect(lines).toEqual([
    expect.stringMatching(/^ {2}- layuot \(set in ~\/\.cdk\.json\): not a context key of this app\. Did you mean 'layout'\?.* Remove it from ~\/\.cdk\.json or rename it\.$/),
    expect.stringMatching(/^ {2}- stagee \(given on the command line with -c\): not a context key of this app\. Did you mean 'stage'\?/),
  ]);
});

test('a misspelt key in cdk.context.json or cdk.json names that file', () => {
  writeFileSync(join(project, 'cdk.context.json'), JSON.stringify({ 'acknowledged-issue-numbers': [34892], encrytion: 'kms' }));
  const cdkJson = JSON.parse(readFileSync(join(project, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  writeFileSync(join(project, 'cdk.json'), JSON.stringify({ ...cdkJson, context: { ...cdkJson.context, Stage: 'prod', encrytion: 'kms' } }));
  const message = problemsOf({ ...appContext(), 'acknowledged-issue-numbers': [34892], encrytion: 'kms', Stage: 'prod' });
  expect(message).toContain("encrytion (set in cdk.context.json and cdk.json): not a context key of this app. Did you mean 'encryption'?");
  expect(message).toContain('Remove it from cdk.context.json and cdk.json or rename it.');
  expect(message).toContain("Stage (set in cdk.json): not a context key of this app. Did you mean 'stage'?");
  expect(message).not.toContain('acknowledged-issue-numbers');
});

test('every context key the installed CDK CLI reads or writes by name is a CDK key', () => {
  const cli = readFileSync(join(ROOT, 'node_modules', 'aws-cdk', 'lib', 'index.js'), 'utf8');
  const cliKeys = [...new Set([...cli.matchAll(/context\.(?:get|set|has|unset)\("([^"]+)"/g)].map((m) => m[1]))];
  expect(cliKeys).toEqual(expect.arrayContaining([...CDK_CONTEXT_KEYS_WITHOUT_SEPARATOR]));
  expect(cliKeys.filter((key) => !isCdkContextKey(key))).toEqual([]);
});

test('every context key of aws-cdk-lib (feature flags, settings, cx-api constants) is a CDK key', () => {
  const constants = Object.entries(cxapi).filter(([name, value]) => typeof value === 'string' && /_CONTEXT(_KEY)?$/.test(name)).map(([, value]) => value as string);
  const flags = [...Object.keys(cxapi.FLAGS), ...Object.keys(cxapi.CURRENTLY_RECOMMENDED_FLAGS), ...Object.keys(cxapi.NEW_PROJECT_DEFAULT_CONTEXT)];
  expect(constants).toEqual(expect.arrayContaining(['aws:cdk:version-reporting', 'aws:cdk:availability-zones:fallback', 'aws-cdk:enableDiffNoFail']));
  expect(flags.length).toBeGreaterThan(100);
  expect([...constants, ...flags].filter((key) => !isCdkContextKey(key))).toEqual([]);
  // And none of the app's keys is mistaken for one.
  expect(CONTEXT_KEYS.map((k) => k.key).filter(isCdkContextKey)).toEqual([]);
});
