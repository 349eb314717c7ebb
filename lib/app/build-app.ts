import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, NagPack, PCIDSS321Checks } from 'cdk-nag';
import { readAppConfig } from './app-config';
import { ConvexStorageStack } from '../stack/convex-storage-stack';

/** The cdk-nag packs the app must pass: AwsSolutions, NIST 800-53 rev 5, HIPAA Security, PCI DSS 3.2.1. */
export function compliancePacks(): NagPack[] {
  return [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()];
}

/** What {@link buildConvexStorageApp} created. */
export interface ConvexStorageApp {
  readonly stack: ConvexStorageStack;
}

/**
 * Builds the deployable app from CDK context: the storage stack of one stage, checked by the
 * cdk-nag AwsSolutions, NIST 800-53 rev 5, HIPAA Security and PCI DSS 3.2.1 packs. Synthesis
 * fails on any unacknowledged finding.
 */
export function buildConvexStorageApp(app: App): ConvexStorageApp {
  const config = readAppConfig(app);
  const stack = new ConvexStorageStack(app, config.stackName, {
    description: `S3 storage of the self-hosted Convex backend, stage ${config.stage} (cdk-convex-storage)`,
    terminationProtection: config.terminationProtection,
    storage: config.storage,
    access: config.access.mode,
    trustedPrincipal: config.access.trustedPrincipal,
    accessKeySerial: config.access.accessKeySerial,
    previousAccessKeySerial: config.access.previousAccessKeySerial,
    backendSourceIps: config.access.backendSourceIps && [...config.access.backendSourceIps],
    backend: config.backend,
    tags: config.tags,
    service: config.service,
    backups: config.backups,
  });
  // For `cdk synth --strict`: the warnings the user chose to live with, on the whole app.
  for (const { id, reason } of config.acknowledgedWarnings) {
    Annotations.of(app).acknowledgeWarning(id, reason);
  }
  Validations.of(app).addPlugins(...compliancePacks());
  return { stack };
}
