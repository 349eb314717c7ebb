/**
 * The one synthesis process of a test run (started by the first suite that needs a variant, see
 * variants.ts): synthesizes every variant as `cdk synth` does, in one process so the built-in
 * CloudFormation validation's wasm module is compiled once, and runs cfn-guard on each template
 * while the next one synthesizes.
 *
 * Usage: node --require tsx/cjs test/helpers/synthesize-variants.ts <dir> <variant>...
 * Writes <dir>/<variant>.synth.json and <dir>/<variant>.guard.json (or `.error` files), each
 * complete when it appears (written beside, then renamed), the CloudFormation validation's
 * negative control, and <dir>/exited at the end.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { buildConvexStorageApp } from '../../lib/app/build-app';
import { acknowledgmentsUnder, appContext, readValidationReport } from './cdk-app';
import { runControlTower } from './control-tower';
import { NEGATIVE_CONTROL_FILE, SynthesizedVariant, VARIANTS, VariantName } from './variants';

const [dir, ...names] = process.argv.slice(2) as [string, ...VariantName[]];

function publish(file: string, content: string): void {
  writeFileSync(join(dir, `${file}.partial`), content);
  renameSync(join(dir, `${file}.partial`), join(dir, file));
}

function synthesize(name: VariantName): { result: SynthesizedVariant; templateFile: string } {
  const started = Date.now();
  const app = new App({ context: appContext(VARIANTS[name].context), outdir: join(dir, name) });
  const { stack } = buildConvexStorageApp(app);
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const validationReport = readValidationReport(assembly.directory);
  const result: SynthesizedVariant = {
    name,
    stackName: stack.stackName,
    templateJson: artifact.template as Record<string, any>,
    validationReport,
    findings: validationReport.pluginReports.flatMap((report) => report.violations ?? []),
    acknowledgments: acknowledgmentsUnder(stack),
    synthMillis: Date.now() - started,
  };
  return { result, templateFile: join(assembly.directory, artifact.templateFile) };
}

async function main(): Promise<void> {
  const guards: Array<Promise<void>> = [];
  for (const name of names) {
    let templateFile: string;
    try {
      const synthesized = synthesize(name);
      templateFile = synthesized.templateFile;
      publish(`${name}.synth.json`, JSON.stringify(synthesized.result));
    } catch (e) {
      const message = (e as Error).stack ?? String(e);
      publish(`${name}.synth.json.error`, message);
      publish(`${name}.guard.json.error`, `the variant did not synthesize:\n${message}`);
      continue;
    }
    guards.push(runControlTower(templateFile).then(
      (findings) => publish(`${name}.guard.json`, JSON.stringify(findings)),
      (e: Error) => publish(`${name}.guard.json.error`, e.message),
    ));
  }
  publish(NEGATIVE_CONTROL_FILE, JSON.stringify({ error: brokenSynthesisError() }));
  await Promise.all(guards);
}

/**
 * The negative control of the built-in CloudFormation validation, in the process that produced
 * the clean reports: an invalid resource must fail synthesis here.
 */
function brokenSynthesisError(): string | undefined {
  const app = new App({ context: appContext(), outdir: join(dir, 'negative-control') });
  new CfnResource(new Stack(app, 'Broken'), 'Bad', { type: 'AWS::S3::Bucket', properties: { Versioning: { Status: 'Enabled' } } });
  try {
    app.synth();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

main().finally(() => writeFileSync(join(dir, 'exited'), ''));
