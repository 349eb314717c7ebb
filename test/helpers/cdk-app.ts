/**
 * Builds CDK apps for tests with the same feature flags as `cdk.json`, so what the tests see is
 * what `cdk synth` produces.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { buildConvexStorageApp, compliancePacks } from '../../lib/app/build-app';

const CDK_JSON = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** The context of cdk.json plus the given values; version reporting off for stable snapshots. */
export function appContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...CDK_JSON.context, 'aws:cdk:version-reporting': false, ...extra };
}

/**
 * An app for unit assertions: cdk.json's flags, no built-in CloudFormation validation (the
 * app-level tests pay for that once per variant).
 */
export function unitTestApp(extra: Record<string, unknown> = {}): App {
  return new App({ context: appContext(extra), builtinCloudFormationValidation: false, outdir: mkdtempSync(join(tmpdir(), 'cdk-unit-')) });
}

/** A stack in a unit-test app. */
export function unitTestStack(extra: Record<string, unknown> = {}): Stack {
  return new Stack(unitTestApp(extra), 'Test');
}

/** What a full synthesis of the deployable app produced. */
export interface SynthesizedApp {
  readonly stack: Stack;
  readonly template: Template;
  readonly templateJson: Record<string, any>;
  /** The cloud assembly's `validation-report.json`: cdk-nag packs and CloudFormation validation. */
  readonly validationReport: ValidationReport;
}

/** The parts of `validation-report.json` the tests read. */
export interface ValidationReport {
  readonly pluginReports: Array<{
    readonly summary?: { readonly pluginName?: string; readonly status?: string };
    readonly pluginName?: string;
    readonly violations?: Array<Record<string, unknown>>;
  }>;
}

/**
 * Synthesizes the deployable app exactly as `cdk synth` does (cdk-nag packs and the strict
 * built-in CloudFormation validation included) with the given context. Synthesis throws on any
 * unacknowledged finding.
 */
export function synthesizeApp(extra: Record<string, unknown> = {}): SynthesizedApp {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-app-'));
  const app = new App({ context: appContext(extra), outdir });
  const { stack } = buildConvexStorageApp(app);
  const assembly = app.synth();
  const templateJson = assembly.getStackByName(stack.stackName).template as Record<string, any>;
  const validationReport = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
  return { stack, template: Template.fromJSON(templateJson), templateJson, validationReport };
}

/** Every unacknowledged finding of the app's cdk-nag packs under `scope`, as `rule: paths`. */
export function nagFindings(scope: IConstruct): string[] {
  return compliancePacks().flatMap((pack) => pack.validateScope(scope).violations
    .map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`));
}

/** One cdk-nag (or annotation) acknowledgment recorded with `Validations.of(x).acknowledge`. */
export interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgment recorded on `scope` or below it. */
export function acknowledgmentsUnder(scope: IConstruct): Acknowledgment[] {
  return scope.node.findAll().flatMap((construct) => construct.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))));
}
