/**
 * Every app variant (test/helpers/variants.ts), synthesized as `cdk synth` does it: cdk-nag's
 * four packs and the built-in CloudFormation validation find nothing that is not acknowledged,
 * and every acknowledgment says why.
 */
import { AppVariant, VARIANTS, VARIANT_NAMES, cloudFormationValidationNegativeControl, synthesizedVariant } from '../helpers/variants';

describe.each(VARIANT_NAMES)('the %s variant', (name) => {
  test('has no unacknowledged cdk-nag or CloudFormation validation finding, and only its expected warnings', () => {
    const { findings } = synthesizedVariant(name);
    const expected = (VARIANTS[name] as AppVariant).expectedWarnings ?? [];
    const unexpected = findings.filter((f) => !expected.some((id) => f.ruleName === `Annotation::${id}`));
    expect(unexpected).toEqual([]);
    // ...and each expected warning is raised.
    for (const id of expected) expect(findings.map((f) => f.ruleName)).toContain(`Annotation::${id}`);
  });

  test('every acknowledgment carries a reason a reviewer can read', () => {
    const { acknowledgments } = synthesizedVariant(name);
    expect(acknowledgments.length).toBeGreaterThan(0);
    for (const { path, id, reason } of acknowledgments) {
      expect({ path, id, long: reason.trim().length > 80 }).toEqual({ path, id, long: true });
    }
  });
});

test('the built-in CloudFormation validation is live where the variants are synthesized: an invalid resource fails there', () => {
  // A negative control: if validation were off, the clean reports above would prove nothing.
  expect(cloudFormationValidationNegativeControl()).toMatch(/'Versioning' was unexpected/);
});
