/**
 * The app variants: the context sets the tests synthesize as `cdk synth` does (cdk-nag's four
 * packs, the built-in CloudFormation validation, Control Tower's cfn-guard rules).
 *
 * TO ADD A VARIANT: add one entry to VARIANTS below (a name and its context values), then read
 * it in your test with `synthesizedVariant('<name>')`, and commit its upgrade baseline
 * (`UPDATE_UPGRADE_BASELINES=true npx jest test/security/upgrade-safety.test.ts`). Every variant is
 * synthesized once per `npm test` run, in one background process shared by all jest workers
 * (test/helpers/synthesize-variants.ts), checked against cdk-nag and the CloudFormation
 * validation (test/app/variants.test.ts) and against Control Tower's rules
 * (test/security/control-tower.test.ts, exemptions in test/security/control-tower-exemptions.ts).
 * Keep the list short: each variant costs about a second of synthesis and two of cfn-guard.
 *
 * No aws-cdk-lib import here: the loader runs in every worker, the synthesis in its own process.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One variant: the context it is synthesized with (on top of cdk.json's). */
export interface AppVariant {
  readonly context: Record<string, unknown>;
  /** What the variant exists to cover. */
  readonly covers: string;
  /**
   * The ids of the warnings (`addWarningV2`) its synthesis is expected to raise; any other
   * warning or finding fails test/app/variants.test.ts.
   * @default none
   */
  readonly expectedWarnings?: readonly string[];
}

/** Origins left unset fall back to loopback addresses: the one warning of a bare `ecs=true`. */
const LOCAL_ORIGINS = 'cdk-convex-storage:local-origins';

export const VARIANTS = {
  default: { context: {}, covers: 'five buckets, SSE-S3, role access' },
  kms: { context: { encryption: 'kms' }, covers: 'the storage key on every bucket' },
  single: { context: { layout: 'single' }, covers: 'one bucket with five prefixes' },
  user: { context: { access: 'user' }, covers: 'an IAM user, its access key and its secret' },
  ecs: {
    context: { ecs: 'true' },
    covers: 'the Fargate task, SQLite on EFS in a VPC the app creates, SSE-S3',
    expectedWarnings: [LOCAL_ORIGINS],
  },
  'ecs-full': {
    context: {
      ecs: 'true', encryption: 'kms', dashboard: 'true', instanceName: 'acme-prod',
      cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com', cpuArchitecture: 'arm64',
      objectLock: 'true', disableBeacon: 'true', redactLogsToClient: 'true',
    },
    covers: 'everything on: KMS, object lock, dashboard, public origins, instance name, Graviton, the beacon off and logs redacted',
    // The dashboard container shares the backend's task role (service=true runs it apart).
    expectedWarnings: ['cdk-convex-storage:dashboard-in-backend-task'],
  },
  'ecs-destroy': {
    context: { ecs: 'true', encryption: 'kms', removalPolicy: 'destroy' },
    covers: 'a throw-away stack: the backend\'s resources are deleted with it, the KMS key is kept',
    expectedWarnings: [LOCAL_ORIGINS],
  },
  'ecs-database-url': {
    context: {
      ecs: 'true', cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com',
      databaseUrlSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:convex-db-AbC12f',
      databaseUrlSecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
    covers: 'a Postgres URL in a secret encrypted with a customer-managed key: no VPC, no volume',
  },
  'user-source-ips': {
    context: { access: 'user', encryption: 'kms', backendSourceIps: '203.0.113.0/24,2001:db8:1234::/48' },
    covers: 'an IAM user confined to its public addresses (its group denies requests from any other), KMS',
  },
  'role-vpc-endpoints': {
    context: { layout: 'single', encryption: 'kms', backendVpcEndpointIds: 'vpce-0a1b2c3d4e5f60718,vpce-1a2b3c4d' },
    covers: 'a backend role confined to the S3 endpoints of a VPC of your own, in one KMS bucket',
  },
  'ecs-postgres': {
    context: { ecs: 'true', database: 'postgres' },
    covers: 'RDS for PostgreSQL in isolated subnets of the app\'s VPC: single-AZ (stage dev), SSE-S3 and AWS managed keys, CA bundles chosen by region at deployment',
    expectedWarnings: [LOCAL_ORIGINS],
  },
  'ecs-postgres-prod': {
    context: {
      ecs: 'true', database: 'postgres', stage: 'prod', encryption: 'kms', instanceName: 'acme-prod',
      cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com',
    },
    covers: 'the production database: Multi-AZ (stage prod), the storage key on the instance, its secret and its logs',
  },
  service: {
    context: {
      service: 'true', domainName: 'convex.example.com', hostedZoneId: 'Z0123456789ABC', hostedZoneName: 'example.com', encryption: 'kms',
      dashboard: 'true', dashboardAllowedCidrs: '203.0.113.0/24', alarmEmail: 'ops@example.com', database: 'postgres',
    },
    covers: 'the one-deploy service: HTTPS load balancer, certificate and records in a hosted zone, dashboard apart, WAF, alarms by e-mail, KMS, RDS for PostgreSQL reachable only from the backend',
  },
  'service-trial': {
    context: { service: 'true', dashboard: 'true', publicDashboard: 'true', deletionProtection: 'false', removalPolicy: 'destroy' },
    covers: 'a throw-away service trial: no domain (plain HTTP on the load balancer), public dashboard, deleted with the stack, SSE-S3',
    expectedWarnings: ['cdk-convex-storage:service-plain-http', 'cdk-convex-storage:public-dashboard'],
  },
  'service-backups': {
    context: {
      service: 'true', domainName: 'convex.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
      encryption: 'kms', alarmEmail: 'ops@example.com',
      backupSchedule: 'cron(0 3 * * ? *)', backupRetentionDays: '30', exportsRetentionDays: '60',
    },
    covers: 'scheduled backups of the service: a certificate of your own (no hosted zone), KMS, alarms by e-mail, a daily cron kept 30 days',
  },
} satisfies Record<string, AppVariant>;

export type VariantName = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];

/** One acknowledgment recorded with `Validations.of(x).acknowledge`, with its construct path. */
export interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** The parts of `validation-report.json` the tests read. */
export interface ValidationReport {
  readonly pluginReports: Array<{
    readonly summary?: { readonly pluginName?: string; readonly status?: string };
    readonly pluginName?: string;
    readonly violations?: Array<Record<string, any>>;
  }>;
}

/** What the synthesis of one variant produced (written by synthesize-variants.ts). */
export interface SynthesizedVariant {
  readonly name: VariantName;
  readonly stackName: string;
  readonly templateJson: Record<string, any>;
  /** The cloud assembly's `validation-report.json`: cdk-nag packs, annotations, CloudFormation validation. */
  readonly validationReport: ValidationReport;
  /** Every finding of the report, acknowledged ones excluded. */
  readonly findings: Array<Record<string, any>>;
  /** Every acknowledgment in the stack, with the construct path it is recorded on. */
  readonly acknowledgments: Acknowledgment[];
  /** Milliseconds the synthesis took (for `npm run bench`, never asserted). */
  readonly synthMillis: number;
}

/** A Control Tower rule that fails on one resource of a variant's template. */
export interface ControlTowerFinding {
  /** The control's id as the rule file names it, e.g. `ct-s3-pr-9`. */
  readonly rule: string;
  /** The logical ID of the failing resource. */
  readonly logicalId: string;
  /** The resource's construct path (`aws:cdk:path` metadata), when it has one. */
  readonly path?: string;
}

/** The environment variable that names the run's shared directory (set by jest's globalSetup). */
export const VARIANTS_DIR_ENV = 'CONVEX_STORAGE_TEST_VARIANTS_DIR';
const WAIT_LIMIT_MS = 240_000;

function variantsDir(): string {
  const dir = process.env[VARIANTS_DIR_ENV];
  if (!dir) throw new Error(`${VARIANTS_DIR_ENV} is not set: run the tests with jest (jest.config.js runs test/helpers/global-setup.ts)`);
  return dir;
}

/**
 * Starts the one synthesis process of this run, unless a worker already did: the first suite
 * that needs a variant pays for it, and a run of unit tests alone pays nothing.
 */
function ensureSynthesisStarted(first: VariantName): void {
  const dir = variantsDir();
  try {
    mkdirSync(join(dir, 'started'));
  } catch {
    return;
  }
  const log = openSync(join(dir, 'synthesis.log'), 'a');
  const order = [first, ...VARIANT_NAMES.filter((n) => n !== first)];
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, 'synthesize-variants.ts'), dir, ...order], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', log, log],
    detached: true,
  });
  writeFileSync(join(dir, 'synthesis.pid'), String(child.pid));
  child.unref();
}

function synthesisAlive(dir: string): boolean {
  const pidFile = join(dir, 'synthesis.pid');
  if (!existsSync(pidFile)) return true;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return existsSync(join(dir, 'exited'));
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Waits (synchronously: jest runs one suite per worker) for `file` of the shared directory. */
function waitFor(file: string, what: string): string {
  const dir = variantsDir();
  const deadline = Date.now() + WAIT_LIMIT_MS;
  const errorFile = `${file}.error`;
  for (;;) {
    if (existsSync(join(dir, file))) return readFileSync(join(dir, file), 'utf8');
    if (existsSync(join(dir, errorFile))) throw new Error(`${what} failed:\n${readFileSync(join(dir, errorFile), 'utf8')}`);
    if (existsSync(join(dir, 'exited')) || !synthesisAlive(dir) || Date.now() > deadline) {
      if (existsSync(join(dir, file))) continue;
      const log = existsSync(join(dir, 'synthesis.log')) ? readFileSync(join(dir, 'synthesis.log'), 'utf8').slice(-4000) : '';
      throw new Error(`${what}: the synthesis process ${existsSync(join(dir, 'exited')) ? 'exited' : 'took too long'} without a result. Its log:\n${log}`);
    }
    Atomics.wait(sleeper, 0, 0, 50);
  }
}

const loaded = new Map<VariantName, SynthesizedVariant>();

/** The synthesized variant `name`: template, validation report, acknowledgments. */
export function synthesizedVariant(name: VariantName): SynthesizedVariant {
  if (!(name in VARIANTS)) throw new Error(`Unknown variant '${name}'; the variants are ${VARIANT_NAMES.join(', ')} (test/helpers/variants.ts)`);
  if (!loaded.has(name)) {
    ensureSynthesisStarted(name);
    loaded.set(name, JSON.parse(waitFor(`${name}.synth.json`, `Synthesizing the ${name} variant`)) as SynthesizedVariant);
  }
  return loaded.get(name)!;
}

/** What cfn-guard found in the variant's template against Control Tower's rules. */
export function controlTowerFindings(name: VariantName): ControlTowerFinding[] {
  synthesizedVariant(name);
  return JSON.parse(waitFor(`${name}.guard.json`, `Running cfn-guard on the ${name} variant`)) as ControlTowerFinding[];
}

export const NEGATIVE_CONTROL_FILE = 'negative-control.cfn-validation.json';

/**
 * The error that synthesizing an invalid resource raised in the synthesis process (undefined if
 * it synthesized): proof that the built-in CloudFormation validation ran there.
 */
export function cloudFormationValidationNegativeControl(): string | undefined {
  ensureSynthesisStarted(VARIANT_NAMES[0]);
  return (JSON.parse(waitFor(NEGATIVE_CONTROL_FILE, 'The CloudFormation validation negative control')) as { error?: string }).error;
}
