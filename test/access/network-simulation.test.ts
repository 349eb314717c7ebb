/**
 * Where the backend's own credentials work, proven by IAM policy simulation of the synthesized
 * templates: identity policies + bucket policy + VPC endpoint policy, evaluated with AWS's
 * documented logic (test/helpers/policy-simulation.ts). The requests are the backend's real S3
 * calls (crates/aws_s3/src/storage.rs, listed in /work/shared/convex-backend-facts.md), on keys
 * of the backend's own shape.
 */
import { STORAGE_KINDS, StorageKind } from '../../lib/storage-kinds';
import { outputKeyFor } from '../../lib/backend-env';
import {
  ACCOUNT_ROOT, Origin, ResolvedTemplate, SIMULATED_ENV, SimulatedPrincipal, administrator, decide, rolePrincipal, userPrincipal,
} from '../helpers/policy-simulation';
import { VARIANT_NAMES, VariantName, synthesizedVariant } from '../helpers/variants';

const OWN_ENDPOINTS = ['vpce-0a1b2c3d4e5f60718', 'vpce-1a2b3c4d'];
const INTERNET: Origin = { through: 'internet', sourceIp: '198.51.100.23' };
const OTHER_ENDPOINT: Origin = { through: 'endpoint', vpceId: 'vpce-0ffffffffffffffff' };

interface Variant {
  readonly template: ResolvedTemplate;
  /** The backend's principal, as its requests are signed. */
  readonly backend: SimulatedPrincipal;
  /** Logical ID of the backend's role or user. */
  readonly backendLogicalId: string;
  /** The backend's `INSTANCE_NAME`, if the storage is narrowed to one. */
  readonly instanceName?: string;
  /** The S3 gateway endpoint of the VPC the app created, if any. */
  readonly endpoint?: { readonly vpceId: string; readonly policy: unknown };
  readonly bucketOf: (kind: StorageKind) => string;
}

/** The logical ID of the managed policy that holds the backend's storage permissions. */
function accessPolicyId(template: ResolvedTemplate): string {
  const ids = template.ofType('AWS::IAM::ManagedPolicy')
    .filter((id) => String(template.resources[id].Properties?.Description ?? '').startsWith('Least-privilege S3'));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/**
 * The backend's principal, found the way a reviewer would: the role or user that holds the
 * storage access policy (directly, or through its group).
 */
function backendIdentity(template: ResolvedTemplate): { logicalId: string; kind: 'role' | 'user' } {
  const policy = accessPolicyId(template);
  const policyArn = template.ref(policy);
  const holders = [...template.ofType('AWS::IAM::Role'), ...template.ofType('AWS::IAM::User')]
    .filter((id) => template.identityPolicies(id).some((p) => p.name === policy) || (template.resolve(template.resources[id].Properties?.ManagedPolicyArns ?? []) as string[]).includes(policyArn));
  expect(holders).toHaveLength(1);
  return { logicalId: holders[0], kind: template.resources[holders[0]].Type === 'AWS::IAM::User' ? 'user' : 'role' };
}

const built = new Map<VariantName, Variant>();
function variant(name: VariantName): Variant {
  if (!built.has(name)) {
    const synthesized = synthesizedVariant(name);
    const template = new ResolvedTemplate(synthesized.templateJson);
    const identity = backendIdentity(template);
    const endpoints = template.ofType('AWS::EC2::VPCEndpoint');
    const instanceName = synthesized.templateJson.Outputs?.InstanceName?.Value as string | undefined;
    built.set(name, {
      template,
      backend: identity.kind === 'user' ? userPrincipal(template, identity.logicalId) : rolePrincipal(template, identity.logicalId),
      backendLogicalId: identity.logicalId,
      instanceName,
      endpoint: endpoints.length === 1 ? { vpceId: template.ref(endpoints[0]), policy: template.endpointPolicy(template.ref(endpoints[0])) } : undefined,
      bucketOf: (kind) => template.output(outputKeyFor(STORAGE_KINDS.find((spec) => spec.kind === kind)!.envVar)),
    });
  }
  return built.get(name)!;
}

/** Where the backend of a variant runs: its VPC's endpoint, your VPC's endpoint, or its address. */
function home(name: VariantName): Origin {
  const v = variant(name);
  if (v.endpoint) return { through: 'endpoint', vpceId: v.endpoint.vpceId };
  if (name === 'role-vpc-endpoints') return { through: 'endpoint', vpceId: OWN_ENDPOINTS[1] };
  return { through: 'internet', sourceIp: name === 'user-source-ips' ? '203.0.113.77' : '192.0.2.10' };
}

/** The backend's S3 calls and the IAM action each one is authorized as. */
const BACKEND_CALLS: ReadonlyArray<{ call: string; action: string; on: 'object' | 'bucket'; kinds?: (kind: StorageKind) => boolean; sendsSseHeader?: true }> = [
  // Unless AWS_S3_DISABLE_SSE=true (KMS mode), it asks for SSE-S3 with x-amz-server-side-encryption: AES256.
  { call: 'CreateMultipartUpload', action: 's3:PutObject', on: 'object', sendsSseHeader: true },
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
function backendRequests(v: Variant): Array<{ label: string; action: string; resource: string; bucket: string; requestKeys?: Record<string, string> }> {
  const instanceName = v.instanceName;
  const sseDisabled = v.template.outputOrUndefined(outputKeyFor('AWS_S3_DISABLE_SSE')) === 'true';
  return STORAGE_KINDS.flatMap((spec) => BACKEND_CALLS.filter((c) => !c.kinds || c.kinds(spec.kind)).map((c) => {
    const bucket = v.bucketOf(spec.kind);
    return {
      label: `${spec.kind}: ${c.call}`,
      action: c.action,
      bucket,
      resource: c.on === 'bucket' ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${backendKey(instanceName)}`,
      requestKeys: c.sendsSseHeader && !sseDisabled ? { 's3:x-amz-server-side-encryption': 'AES256' } : undefined,
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
      requestKeys: request.requestKeys,
      // The app's endpoint policy applies to what goes through the app's endpoint.
      endpointPolicy: origin.through === 'endpoint' && origin.vpceId === v.endpoint?.vpceId ? v.endpoint.policy : undefined,
    });
  }
  return out;
}

function all(v: Variant, decision: string): Record<string, string> {
  return Object.fromEntries(backendRequests(v).map((r) => [r.label, decision]));
}

describe.each(['ecs', 'ecs-full', 'role-vpc-endpoints', 'service'] as const)('the backend role confined to its VPC (the %s variant)', (name) => {
  test('through its S3 endpoint, every request the backend makes is allowed', async () => {
    const v = variant(name);
    expect(home(name).through).toBe('endpoint');
    expect(await decisions(v, v.backend, home(name))).toEqual(all(v, 'Allowed'));
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

test('with ecs=true every data bucket denies the task role outside the VPC\'s endpoint, and only the task role', () => {
  const v = variant('ecs');
  expect(v.template.resources[v.backendLogicalId].Properties.Description).toMatch(/Runs the self-hosted Convex backend/);
  for (const spec of STORAGE_KINDS) {
    const denies = (v.template.bucketPolicy(v.bucketOf(spec.kind)).Statement as any[]).filter((st) => st.Condition?.StringNotEquals?.['aws:SourceVpce']);
    expect(denies).toEqual([expect.objectContaining({
      Effect: 'Deny',
      Condition: { ArnEquals: { 'aws:PrincipalArn': [v.backend.principalArn] }, StringNotEquals: { 'aws:SourceVpce': [v.endpoint!.vpceId] } },
    })]);
  }
});

test('a backend outside AWS: its IAM user is allowed every request from its addresses and denied from any other', async () => {
  const v = variant('user-source-ips');
  expect(await decisions(v, v.backend, home('user-source-ips'))).toEqual(all(v, 'Allowed'));
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '2001:db8:1234:5::9' })).toEqual(all(v, 'Allowed'));
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '203.0.114.1' })).toEqual(all(v, 'ExplicitlyDenied'));
  expect(await decisions(v, v.backend, { through: 'internet', sourceIp: '2001:db8:1235::1' })).toEqual(all(v, 'ExplicitlyDenied'));
  // A request through a VPC endpoint carries no aws:SourceIp: the NotIpAddress deny applies.
  expect(await decisions(v, v.backend, OTHER_ENDPOINT)).toEqual(all(v, 'ExplicitlyDenied'));
  expect(await decisions(v, administrator('Admin'), INTERNET)).toEqual(all(v, 'Allowed'));
  expect(await decisions(v, ACCOUNT_ROOT, INTERNET)).toEqual(all(v, 'Allowed'));
});

test('without endpoint IDs or source addresses nothing is restricted: the backend works from anywhere', async () => {
  for (const name of ['default', 'user'] as const) {
    const v = variant(name);
    expect(await decisions(v, v.backend, INTERNET)).toEqual(all(v, 'Allowed'));
  }
});

test('another principal given the same access policy is not restricted by the backend\'s deny', async () => {
  const v = variant('ecs');
  const twin: SimulatedPrincipal = {
    arn: `arn:aws:sts::${SIMULATED_ENV.account}:assumed-role/BackendTwin/session`,
    principalArn: `arn:aws:iam::${SIMULATED_ENV.account}:role/BackendTwin`,
    identityPolicies: v.backend.identityPolicies,
  };
  expect(await decisions(v, twin, INTERNET)).toEqual(all(v, 'Allowed'));
});

test('CloudFormation\'s deployment role can still change and delete the bucket policies from outside the VPC', async () => {
  const v = variant('ecs');
  const deployRole = administrator(`cdk-hnb659fds-cfn-exec-role-${SIMULATED_ENV.account}-${SIMULATED_ENV.region}`);
  const bucket = v.bucketOf('files');
  for (const action of ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:GetBucketPolicy', 's3:PutLifecycleConfiguration']) {
    expect(await decide({ principal: deployRole, action, resource: `arn:aws:s3:::${bucket}`, origin: INTERNET, resourcePolicy: v.template.bucketPolicy(bucket) })).toBe('Allowed');
  }
});

describe('the S3 endpoint policy of the app\'s VPC', () => {
  const foreign = (principalAccount: string): SimulatedPrincipal => ({
    arn: `arn:aws:iam::${principalAccount}:role/Someone`,
    principalArn: `arn:aws:iam::${principalAccount}:role/Someone`,
    identityPolicies: [{ name: 'all', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
  });

  test('lets Amazon ECR\'s image layers through', async () => {
    const v = variant('ecs');
    const ecr = '999999999999';
    expect(await decide({
      principal: foreign(ecr), action: 's3:GetObject', resourceAccount: ecr, origin: home('ecs'), endpointPolicy: v.endpoint!.policy,
      resource: `arn:aws:s3:::prod-${SIMULATED_ENV.region}-starport-layer-bucket/sha256/0f/layer`,
    })).toBe('Allowed');
  });

  test('stops a request to a bucket of another account, even with credentials that allow it', async () => {
    const v = variant('ecs');
    const outsider = '222222222222';
    expect(await decide({
      principal: foreign(outsider), action: 's3:PutObject', resourceAccount: outsider, origin: home('ecs'), endpointPolicy: v.endpoint!.policy,
      resource: 'arn:aws:s3:::exfiltration-target/dump.zip',
    })).toBe('ImplicitlyDenied');
  });
});

/** Condition keys that say where a request comes from. */
const NETWORK_KEYS = ['aws:SourceVpce', 'aws:SourceVpc', 'aws:SourceIp', 'aws:VpcSourceIp'];

describe.each(VARIANT_NAMES)('no deny can lock out the account (the %s variant)', (name) => {
  test('every deny that depends on the network names the backend\'s principal, and only it', () => {
    const v = variant(name);
    const policyTypes = ['AWS::S3::BucketPolicy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy', 'AWS::EC2::VPCEndpoint', 'AWS::IAM::User', 'AWS::IAM::Group', 'AWS::KMS::Key', 'AWS::SecretsManager::ResourcePolicy'];
    const json = Object.fromEntries(Object.entries(v.template.resources)
      .filter(([, r]) => policyTypes.includes(r.Type))
      .map(([id, r]) => [id, { Type: r.Type, Properties: v.template.resolve(r.Properties ?? {}) }])) as Record<string, { Type: string; Properties: any }>;
    const bucketDenies: string[] = [];
    const identityDenies: string[] = [];
    for (const [id, resource] of Object.entries(json)) {
      const document = resource.Properties?.PolicyDocument ?? resource.Properties?.KeyPolicy ?? resource.Properties?.ResourcePolicy;
      for (const statement of document?.Statement ?? []) {
        if (statement.Effect !== 'Deny') continue;
        // No deny of "everyone but X": that would reach root, administrators and CloudFormation.
        expect(statement.NotPrincipal).toBeUndefined();
        for (const operator of Object.keys(statement.Condition ?? {})) {
          if (/Not/.test(operator)) expect(Object.keys(statement.Condition[operator])).not.toContain('aws:PrincipalArn');
        }
        const keys = Object.values(statement.Condition ?? {}).flatMap((c) => Object.keys(c as object));
        if (!keys.some((k) => NETWORK_KEYS.includes(k))) continue;
        if (resource.Type === 'AWS::S3::BucketPolicy') {
          bucketDenies.push(resource.Properties.Bucket);
          expect(statement.Condition.ArnEquals['aws:PrincipalArn']).toEqual([v.backend.principalArn]);
          expect(v.backend.principalArn).not.toMatch(/[*?]|:root$/);
        } else {
          // An identity policy: attached to the backend user's group alone, whose only member is that user.
          identityDenies.push(id);
          expect(resource.Type).toBe('AWS::IAM::ManagedPolicy');
          expect(resource.Properties.Roles).toBeUndefined();
          expect(resource.Properties.Users).toBeUndefined();
          expect(resource.Properties.Groups).toHaveLength(1);
          const members = Object.entries(json).filter(([, r]) => r.Type === 'AWS::IAM::User' && (r.Properties.Groups ?? []).includes(resource.Properties.Groups[0]));
          expect(members.map(([member]) => member)).toEqual([v.backendLogicalId]);
        }
      }
    }
    // Exactly where a restriction is configured: one deny per data bucket, or one group policy.
    const dataBuckets = [...new Set(STORAGE_KINDS.map((spec) => v.bucketOf(spec.kind)))];
    const confined = v.endpoint !== undefined || name === 'role-vpc-endpoints';
    expect(bucketDenies.sort()).toEqual(confined ? [...dataBuckets].sort() : []);
    expect(identityDenies).toHaveLength(name === 'user-source-ips' ? 1 : 0);
  });
});
