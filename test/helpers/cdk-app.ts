/**
 * Builds CDK apps for tests with the same feature flags as `cdk.json`, so what the tests see is
 * what `cdk synth` produces.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, AppProps, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { compliancePacks } from '../../lib/app/build-app';
import type { Acknowledgment, ValidationReport } from './variants';

export type { Acknowledgment, ValidationReport } from './variants';

const CDK_JSON = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** The context of cdk.json plus the given values; version reporting off for stable snapshots. */
export function appContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...CDK_JSON.context, 'aws:cdk:version-reporting': false, ...extra };
}

const outdirs: string[] = [];

/**
 * A cloud-assembly directory for a test app, removed after the test file by
 * test/helpers/jest-setup.ts (`removeTestOutdirs`): an `App` without `outdir` would leave a
 * `cdk.out*` folder in the temp directory on every construction.
 */
export function testOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  outdirs.push(dir);
  return dir;
}

/** Removes every directory {@link testOutdir} created in this test file. */
export function removeTestOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * An app with cdk.json's flags (plus `extra`) whose outdir is removed after the test file. Use it
 * instead of `new App()` in tests (eslint enforces it).
 */
export function testApp(extra: Record<string, unknown> = {}, props: Omit<AppProps, 'context' | 'outdir'> = {}): App {
  return new App({ ...props, context: appContext(extra), outdir: testOutdir() });
}

/**
 * An app for unit assertions: cdk.json's flags, no built-in CloudFormation validation (the
 * variants pay for that once, see test/helpers/variants.ts), and no validation report printed at
 * synthesis: a test that expects a warning asserts it (`Annotations.fromStack(stack)`), a test
 * that does not expect one ignores it, and neither prints it.
 */
export function unitTestApp(extra: Record<string, unknown> = {}): App {
  return testApp({ [QUIET_SYNTH]: false, ...extra }, { builtinCloudFormationValidation: false });
}

/**
 * aws-cdk-lib prints the validation report (every warning, with its stack trace) at synthesis
 * unless this is false; then it neither prints nor throws, and the annotations stay readable.
 */
const QUIET_SYNTH = '@aws-cdk/core:failSynthOnValidationErrors';

/** A stack in a unit-test app. */
export function unitTestStack(extra: Record<string, unknown> = {}): Stack {
  return new Stack(unitTestApp(extra), 'Test');
}

/** The cloud assembly's `validation-report.json` in `assemblyDir`. */
export function readValidationReport(assemblyDir: string): ValidationReport {
  return JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8')) as ValidationReport;
}

/** Every unacknowledged finding of the app's cdk-nag packs under `scope`, as `rule: paths`. */
export function nagFindings(scope: IConstruct): string[] {
  return compliancePacks().flatMap((pack) => pack.validateScope(scope).violations
    .map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`));
}

/** Every acknowledgment recorded on `scope` or below it. */
export function acknowledgmentsUnder(scope: IConstruct): Acknowledgment[] {
  return scope.node.findAll().flatMap((construct) => construct.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))));
}
