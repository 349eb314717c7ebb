/**
 * Every app variant against AWS Control Tower's proactive controls (cfn-guard rules shipped by
 * @cdklabs/cdk-validator-cfnguard), one cfn-guard process per template (run by the shared
 * variant synthesis): no failing control outside the reviewed exemptions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testOutdir } from '../helpers/cdk-app';
import { runControlTower } from '../helpers/control-tower';
import { ControlTowerFinding, VARIANT_NAMES, VariantName, controlTowerFindings, synthesizedVariant } from '../helpers/variants';
import { CONTROL_TOWER_EXEMPTIONS, ControlTowerExemption } from './control-tower-exemptions';

function exemptionFor(variant: VariantName, finding: ControlTowerFinding): ControlTowerExemption | undefined {
  return CONTROL_TOWER_EXEMPTIONS.find((e) => e.rule === finding.rule && e.resource.test(finding.logicalId) && (e.variants?.includes(variant) ?? true));
}

function unexempted(variant: VariantName, findings: ControlTowerFinding[]): string[] {
  return findings.filter((f) => exemptionFor(variant, f) === undefined).map((f) => `${f.rule} on ${f.logicalId}`);
}

describe.each(VARIANT_NAMES)('the %s variant', (name) => {
  test('fails no Control Tower control outside the reviewed exemptions', () => {
    expect(unexempted(name, controlTowerFindings(name))).toEqual([]);
  });
});

test('every exemption still matches a failure, applies to named variants only, and says why', () => {
  const used = new Set<ControlTowerExemption>();
  for (const name of VARIANT_NAMES) {
    for (const finding of controlTowerFindings(name)) {
      const exemption = exemptionFor(name, finding);
      if (exemption) used.add(exemption);
    }
  }
  for (const exemption of CONTROL_TOWER_EXEMPTIONS) {
    expect({ rule: exemption.rule, resource: String(exemption.resource), used: used.has(exemption) }).toEqual({ rule: exemption.rule, resource: String(exemption.resource), used: true });
    expect(exemption.reason.length).toBeGreaterThan(80);
    for (const variant of exemption.variants ?? []) expect(VARIANT_NAMES).toContain(variant);
  }
});

test('the check is live: a bucket added to a variant\'s template fails it, the rest stays exempt', async () => {
  // A negative control: cfn-guard runs on a real template with one deliberately bad resource.
  const templateJson = structuredClone(synthesizedVariant('kms').templateJson);
  templateJson.Resources.Unhardened = { Type: 'AWS::S3::Bucket', Properties: {} };
  const file = join(testOutdir(), 'template.json');
  writeFileSync(file, JSON.stringify(templateJson));
  const failures = unexempted('kms', await runControlTower(file));
  expect(failures).toEqual(expect.arrayContaining(['ct-s3-pr-2 on Unhardened', 'ct-s3-pr-9 on Unhardened', 'ct-s3-pr-10 on Unhardened']));
  expect(failures.filter((f) => !f.endsWith(' on Unhardened'))).toEqual([]);
});
