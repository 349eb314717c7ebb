/**
 * Amazon RDS CA bundles, pinned in this package (see scripts/pin-rds-ca-certificates.js): the
 * backend verifies its database's TLS certificate against the image's system roots plus the
 * file `PG_CA_FILE` names, and RDS certificates chain to Amazon's own RDS roots, which no
 * system trust store holds. No aws-cdk-lib import: tests and scripts share this module.
 */
import { RDS_CA_CERTIFICATES, RDS_CA_CERTIFICATES_SOURCE } from './rds-ca-certificates.generated';

export { RDS_CA_CERTIFICATES_SOURCE };

/** The regions with a pinned bundle, sorted. */
export const RDS_CA_REGIONS: readonly string[] = Object.keys(RDS_CA_CERTIFICATES).sort();

/**
 * The PEM bundle of Amazon's RDS root CAs for `region` (RSA2048, RSA4096 and ECC384 G1), or
 * undefined for a region without a pinned bundle.
 */
export function rdsCaBundle(region: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(RDS_CA_CERTIFICATES, region) ? RDS_CA_CERTIFICATES[region].join('') : undefined;
}

/** Where a user finds the bundle of a region this package has none for, for error messages. */
export function rdsCaBundleHint(region: string): string {
  return `download Amazon's bundle for the region (https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem, see "Download certificate bundles for Amazon RDS" in the RDS user guide) and pass its text as caCertificates`;
}
