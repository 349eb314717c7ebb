import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Rule-ID prefixes of the compliance packs that share rule names (cdk-nag's NIST 800-53 rev 5,
 * HIPAA Security and PCI DSS 3.2.1 packs). A rule like `S3BucketLoggingEnabled` exists in each.
 */
export const COMPLIANCE_PACK_PREFIXES = ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'] as const;

/**
 * Acknowledges one rule of the compliance packs on a construct, with one reason for all packs.
 *
 * Acknowledgments live next to the resource they are about, through aws-cdk-lib's own
 * `Validations` API, so this library needs no cdk-nag dependency at run time.
 */
export function acknowledgeComplianceRule(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge(...COMPLIANCE_PACK_PREFIXES.map((pack) => ({ id: `${pack}-${rule}`, reason })));
}
