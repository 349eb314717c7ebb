/**
 * Where the backend's own credentials work, proven by IAM policy simulation of the synthesized
 * templates: identity policies + bucket policy + VPC endpoint policy, evaluated with AWS's
 * documented logic (test/helpers/policy-simulation.ts). The requests are the backend's real S3
 * calls (crates/aws_s3/src/storage.rs, listed in /work/shared/convex-backend-facts.md), on keys
 * of the backend's own shape.
 */
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { BackendAccessMode } from '../../lib/access/access-options';
import { outputKeyFor } from '../../lib/backend-env';
import { ConvexStorageStack, ConvexStorageStackProps } from '../../lib/stack/convex-storage-stack';
import { StorageEncryption, StorageLayout } from '../../lib/storage/convex-storage';
import { STORAGE_KINDS, StorageKind } from '../../lib/storage-kinds';
import { nagFindings, unitTestApp } from '../helpers/cdk-app';
import {
  ACCOUNT_ROOT, Origin, ResolvedTemplate, SIMULATED_ENV, SimulatedPrincipal, administrator, decide, rolePrincipal, userPrincipal,
} from '../helpers/policy-simulation';

const ORIGINS = { cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com' };
const OWN_ENDPOINTS = ['vpce-0a1b2c3d4e5f60718', 'vpce-1a2b3c4d'];
const ALLOWED_IPS = ['203.0.113.0/24', '2001:db8:1234::/48'];
const INTERNET: Origin = { through: 'internet', sourceIp: '198.51.100.23' };
const OTHER_ENDPOINT: Origin = { through: 'endpoint', vpceId: 'vpce-0ffffffffffffffff' };

const VARIANTS = {
  /** ecs=true with SQLite: the app creates the VPC, its S3 endpoint restricts the task role. */
  ecsVpc: { backend: ORIGINS },
  /** The same in one KMS-encrypted bucket, narrowed to an instance name. */
  ecsVpcSingleKms: { storage: { layout: StorageLayout.SINGLE, encryption: StorageEncryption.KMS, instanceName: 'my-app' }, backend: ORIGINS },
  /** A backend role in a VPC of the user's own, with its endpoint IDs given. */
  roleOwnVpc: { storage: { backendVpcEndpointIds: OWN_ENDPOINTS } },
  /** A backend outside AWS with its IAM user confined to its public addresses. */
  userIps: { access: BackendAccessMode.USER, backendSourceIps: ALLOWED_IPS },
  /** Nothing restricted: a role with no endpoint IDs. */
  roleUnrestricted: {},
} satisfies Record<string, ConvexStorageStackProps>;
type VariantName = keyof typeof VARIANTS;

interface Variant {
  readonly stack: ConvexStorageStack;
  readonly template: ResolvedTemplate;
  /** The backend's principal, as the requests sign it. */
  readonly backend: SimulatedPrincipal;
  /** Where the backend's requests come from. */
  readonly home: Origin;
  /** The endpoint policy of the app's VPC, if it made one. */
  readonly endpointPolicy?: unknown;
  readonly bucketOf: (kind: StorageKind) => string;
}

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

const built = new Map<VariantName, Variant>();
function variant(name: VariantName): Variant {
  if (!built.has(name)) {
    const stack = new ConvexStorageStack(unitTestApp(), `N${name}`, VARIANTS[name]);
    const template = new ResolvedTemplate(Template.fromStack(stack).toJSON());
    const endpoint = stack.backend?.network?.s3Endpoint;
    const backend = stack.backendUser
      ? userPrincipal(template, logicalId(stack.backendUser.user))
      : rolePrincipal(template, logicalId(stack.backend ? stack.backend.backend.taskRole : stack.backendRole!));
    const home: Origin = endpoint
      ? { through: 'endpoint', vpceId: template.ref(logicalId(endpoint)) }
      : name === 'roleOwnVpc' ? { through: 'endpoint', vpceId: OWN_ENDPOINTS[1] }
        : { through: 'internet', sourceIp: name === 'userIps' ? '203.0.113.77' : '192.0.2.10' };
    built.set(name, {
      stack,
      template,
      backend,
      home,
      endpointPolicy: endpoint && template.endpointPolicy(template.ref(logicalId(endpoint))),
      bucketOf: (kind) => template.output(outputKeyFor(STORAGE_KINDS.find((s) => s.kind === kind)!.envVar)),
    });
  }
  return built.get(name)!;
}

/** The backend's S3 calls and the IAM action each one is authorized as. */
const BACKEND_CALLS: ReadonlyArray<{ call: string; action: string; on: 'object' | 'bucket'; kinds?: (kind: StorageKind) => boolean }> = [
  { call: 'CreateMultipartUpload', action: 's3:PutObject', on: 'object' },
  { call: 'UploadPart', action: 's3:PutObject', on: 'object' },
  { call: 'CompleteMultipartUpload', action: 's3:PutObject', on: 'object' },
  { call: 'AbortMultipartUpload', action: 's3:AbortMultipartUpload', on: 'object' },
  { call: 'GetObject (ranged)', action: 's3:GetObject', on: 'object' },
  { call: 'HeadObject', action: 's3:GetObject', on: 'object' },
  { call: 'ListObjectsV2 (a missing key answers 404)', action: 's3:ListBucket', on: 'bucket' },
  { call: 'DeleteObject (expired exports)', action: 's3:DeleteObject', on: 'object', kinds: (kind) => STORAGE_KINDS.find((s) => s.kind === kind)!.backendDeletes },
  { call: 'presigned GET, fetched by the Node executor', action: 's3:GetObject', on: 'object', kinds: (kind) => kind === 'modules' },
  { call: 'presigned PUT, sent by the Node executor', action: 's3:PutObject', on: 'object', kinds: (kind) => kind === 'modules' },
];

/** A key of the backend's shape: `<INSTANCE_NAME>-<uuid>/<uuid>`. */
function backendKey(instanceName = 'convex-self-hosted'): string {
  return `${instanceName}-3f2b8c1e-7d4a-4e9b-a1c2-5b6d7e8f9a0b/0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5`;
}

/** Every (kind, call) request the backend makes, for one variant. */
function backendRequests(v: Variant): Array<{ label: string; action: string; resource: string; bucket: string }> {
  const instanceName = v.stack.storage.instanceName;
  return STORAGE_KINDS.flatMap((spec) => BACKEND_CALLS.filter((c) => !c.kinds || c.kinds(spec.kind)).map((c) => {
    const bucket = v.bucketOf(spec.kind);
    return {
      label: `${spec.kind}: ${c.call}`,
      action: c.action,
      bucket,
      resource: c.on === 'bucket' ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${backendKey(instanceName)}`,
    };
  }));
}

async function decisions(v: Variant, principal: SimulatedPrincipal, origin: Origin): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const request of backendRequests(v)) {
    out[request.label] = await decide({
      principal,
      action: request.action,
      resource: request.resource,
      origin,
      resourcePolicy: v.template.bucketPolicy(request.bucket),
      endpointPolicy: origin.through === 'endpoint' && origin.vpceId === (v.home as { vpceId?: string }).vpceId ? v.endpointPolicy : undefined,
    });
  }
  return out;
}

function all(v: Variant, decision: string): Record<string, string> {
  return Object.fromEntries(backendRequests(v).map((r) => [r.label, decision]));
}

describe.each(['ecsVpc', 'ecsVpcSingleKms', 'roleOwnVpc'] as const)('the backend role confined to its VPC (%s)', (name) => {
  test('through its S3 endpoint, every request the backend makes is allowed', async () => {
    const v = variant(name);
    expect(v.home.through).toBe('endpoint');
    expect(await decisions(v, v.backend, v.home)).toEqual(all(v, 'Allowed'));
  });

  test('the same credentials from the internet, or through another VPC\'s endpoint, are denied every request', async () => {
    const v = variant(name);
    expect(await decisions(v, v.backend, INTERNET)).toEqual(all(v, 'ExplicitlyDenied'));
    expect(await decisions(v, v.backend, OTHER_ENDPOINT)).toEqual(all(v, 'ExplicitlyDenied'));
  });

  test('the account\'s administrators and root keep every request from anywhere', async () => {
    const v = variant(name);
    for (const principal of [administrator('Admin'), ACCOUNT_ROOT]) {
      expect(await decisions(v, principal, INTERNET)).toEqual(all(v, 'Allowed'));
    }
  });
});

test('with ecs=true the data buckets deny the task role outside the endpoint, and only the task role', () => {
  const v = variant('ecsVpc');
  const vpce = v.template.ref(logicalId(v.stack.backend!.network!.s3Endpoint));
  for (const spec of STORAGE_KINDS) {
    const denies = (v.template.bucketPolicy(v.bucketOf(spec.kind)).Statement as any[]).filter((s) => s.Condition?.StringNotEquals?.['aws:SourceVpce']);
    expect(denies).toEqual([expect.objectContaining({
      Effect: 'Deny',
      Condition: { ArnEquals: { 'aws:PrincipalArn': [v.backend.principalArn] }, StringNotEquals: { 'aws:SourceVpce': [vpce] } },
    })]);
  }
});

test('a backend outside AWS: its IAM user is allowed every request from its addresses, denied from any other, others are not affected', async () => {
  const v = variant('userIps');
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '203.0.113.77' })).toEqual(all(v, 'Allowed'));
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '2001:db8:1234:5::9' })).toEqual(all(v, 'Allowed'));
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '203.0.114.1' })).toEqual(all(v, 'ExplicitlyDenied'));
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '2001:db8:1235::1' })).toEqual(all(v, 'ExplicitlyDenied'));
  // A request through a VPC endpoint carries no aws:SourceIp: the NotIpAddress deny applies.
  expect(await decisions(v, v.backend, OTHER_ENDPOINT)).toEqual(all(v, 'ExplicitlyDenied'));
  expect(await decisions(v, administrator('Admin'), INTERNET)).toEqual(all(v, 'Allowed'));
});

test('without endpoint IDs or source addresses nothing is restricted: the backend role works from anywhere', async () => {
  const v = variant('roleUnrestricted');
  expect(await decisions(v, v.backend, INTERNET)).toEqual(all(v, 'Allowed'));
});

test('another principal given the same access policy is not restricted by the backend\'s deny', async () => {
  const v = variant('ecsVpc');
  const twin: SimulatedPrincipal = {
    arn: `arn:aws:sts::${SIMULATED_ENV.account}:assumed-role/BackendTwin/session`,
    principalArn: `arn:aws:iam::${SIMULATED_ENV.account}:role/BackendTwin`,
    identityPolicies: v.backend.identityPolicies,
  };
  expect(await decisions(v, twin, INTERNET)).toEqual(all(v, 'Allowed'));
});

test('CloudFormation\'s deployment role can still change and delete the bucket policies from outside the VPC', async () => {
  const v = variant('ecsVpc');
  const deployRole = administrator(`cdk-hnb659fds-cfn-exec-role-${SIMULATED_ENV.account}-${SIMULATED_ENV.region}`);
  for (const action of ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:GetBucketPolicy', 's3:PutLifecycleConfiguration']) {
    const bucket = v.bucketOf('files');
    expect(await decide({ principal: deployRole, action, resource: `arn:aws:s3:::${bucket}`, origin: INTERNET, resourcePolicy: v.template.bucketPolicy(bucket) })).toBe('Allowed');
  }
});

describe('the S3 endpoint policy of the app\'s VPC', () => {
  const foreign = (principalAccount: string) => ({
    arn: `arn:aws:iam::${principalAccount}:role/Someone`,
    principalArn: `arn:aws:iam::${principalAccount}:role/Someone`,
    identityPolicies: [{ name: 'all', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
  });

  test('lets Amazon ECR\'s image layers through', async () => {
    const v = variant('ecsVpc');
    const ecr = '999999999999';
    expect(await decide({
      principal: foreign(ecr), action: 's3:GetObject', resourceAccount: ecr, origin: v.home, endpointPolicy: v.endpointPolicy,
      resource: `arn:aws:s3:::prod-${SIMULATED_ENV.region}-starport-layer-bucket/sha256/0f/layer`,
    })).toBe('Allowed');
  });

  test('stops a request to a bucket of another account, even with credentials that allow it', async () => {
    const v = variant('ecsVpc');
    const outsider = '222222222222';
    expect(await decide({
      principal: foreign(outsider), action: 's3:PutObject', resourceAccount: outsider, origin: v.home, endpointPolicy: v.endpointPolicy,
      resource: 'arn:aws:s3:::exfiltration-target/dump.zip',
    })).toBe('ImplicitlyDenied');
  });
});

test('the restricted variants pass the four cdk-nag packs', () => {
  for (const name of ['ecsVpc', 'roleOwnVpc', 'userIps'] as const) {
    expect(nagFindings(variant(name).stack)).toEqual([]);
  }
});

/** Condition keys that say where a request comes from. */
const NETWORK_KEYS = ['aws:SourceVpce', 'aws:SourceVpc', 'aws:SourceIp', 'aws:VpcSourceIp'];

describe.each(Object.keys(VARIANTS) as VariantName[])('no deny can lock out the account (%s)', (name) => {
  test('every deny that depends on the network names the backend\'s principal, and only it', () => {
    const v = variant(name);
    const policyTypes = ['AWS::S3::BucketPolicy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy', 'AWS::EC2::VPCEndpoint', 'AWS::IAM::User', 'AWS::IAM::Role', 'AWS::IAM::Group'];
    const json = Object.fromEntries(Object.entries(v.template.resources)
      .filter(([, r]) => policyTypes.includes(r.Type))
      .map(([id, r]) => [id, { Type: r.Type, Properties: v.template.resolve(r.Properties ?? {}) }])) as Record<string, { Type: string; Properties: any }>;
    const networkDenies: string[] = [];
    for (const [id, resource] of Object.entries(json)) {
      const document = resource.Properties?.PolicyDocument;
      for (const statement of document?.Statement ?? []) {
        if (statement.Effect !== 'Deny') continue;
        // No deny of "everyone but X": that would reach root, administrators and CloudFormation.
        expect(statement.NotPrincipal).toBeUndefined();
        for (const operator of Object.keys(statement.Condition ?? {})) {
          if (/Not/.test(operator)) expect(Object.keys(statement.Condition[operator])).not.toContain('aws:PrincipalArn');
        }
        const keys = Object.values(statement.Condition ?? {}).flatMap((c) => Object.keys(c as object));
        if (!keys.some((k) => NETWORK_KEYS.includes(k))) continue;
        networkDenies.push(`${resource.Type} ${statement.Sid}`);
        if (resource.Type === 'AWS::S3::BucketPolicy') {
          expect(statement.Condition.ArnEquals['aws:PrincipalArn']).toEqual([v.backend.principalArn]);
          expect(v.backend.principalArn).not.toMatch(/[*?]|:root$/);
        } else {
          // An identity policy: attached to the backend user's group alone, whose only member is that user.
          expect(resource.Type).toBe('AWS::IAM::ManagedPolicy');
          expect(resource.Properties.Roles).toBeUndefined();
          expect(resource.Properties.Users).toBeUndefined();
          const groupId = logicalId(v.stack.backendUser!.group);
          expect(resource.Properties.Groups).toEqual([v.template.ref(groupId)]);
          const members = Object.values(json).filter((r) => r.Type === 'AWS::IAM::User' && (r.Properties.Groups ?? []).includes(v.template.ref(groupId)));
          expect(members).toHaveLength(1);
          expect(id).toBe(logicalId(v.stack.backendUser!.sourceIpRestriction!));
        }
      }
    }
    const expected: Record<VariantName, number> = { ecsVpc: 5, ecsVpcSingleKms: 1, roleOwnVpc: 5, userIps: 1, roleUnrestricted: 0 };
    expect(networkDenies).toHaveLength(expected[name]);
  });
});
