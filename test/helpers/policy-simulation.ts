/**
 * IAM policy simulation of a synthesized template, without AWS.
 *
 * The template's intrinsic functions are resolved to the physical values CloudFormation would
 * give (made-up but well-formed: bucket names, role ARNs, a `vpce-` ID), and each request is
 * evaluated by `@cloud-copilot/iam-simulate`, which implements AWS's documented evaluation logic
 * (explicit deny > allow; identity, resource and VPC endpoint policies; every condition operator,
 * including the missing-key rules of negated operators).
 *
 * The request context is built the way AWS documents it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
 * `aws:PrincipalArn` is the role's ARN for a role session (not the session's ARN), and a request
 * through a VPC endpoint carries `aws:SourceVpce`, `aws:SourceVpc` and `aws:VpcSourceIp` but no
 * `aws:SourceIp`, while a request from the internet carries only `aws:SourceIp`.
 */
import { createHash } from 'node:crypto';
import { runSimulation } from '@cloud-copilot/iam-simulate';

/** The account, region and partition the template is resolved in. */
export const SIMULATED_ENV = { account: '111111111111', region: 'eu-west-1', partition: 'aws' } as const;

type Json = any;

/** A template whose references resolve to physical values. */
export class ResolvedTemplate {
  public readonly resources: Record<string, { Type: string; Properties?: Json }>;

  constructor(private readonly template: Json, private readonly env = SIMULATED_ENV) {
    this.resources = template.Resources;
  }

  /** The logical IDs of the resources of one type. */
  public ofType(type: string): string[] {
    return Object.keys(this.resources).filter((id) => this.resources[id].Type === type);
  }

  /** The value of a stack output. */
  public output(key: string): string {
    const output = this.template.Outputs?.[key];
    if (!output) throw new Error(`No output ${key}`);
    return this.resolve(output.Value);
  }

  /** The value of a stack output, or undefined when the stack has no such output. */
  public outputOrUndefined(key: string): string | undefined {
    return this.template.Outputs?.[key] === undefined ? undefined : this.output(key);
  }

  /** What `Ref` to a resource (or pseudo parameter) returns. */
  public ref(id: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': this.env.account,
      'AWS::Region': this.env.region,
      'AWS::Partition': this.env.partition,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'SimulatedStack',
    };
    if (pseudo[id] !== undefined) return pseudo[id];
    const resource = this.resources[id];
    if (!resource) throw new Error(`Ref to unknown resource ${id}`);
    const props = resource.Properties ?? {};
    const hex = (length: number) => createHash('sha256').update(id).digest('hex').slice(0, length);
    switch (resource.Type) {
      case 'AWS::S3::Bucket':
        return props.BucketName !== undefined ? this.resolve(props.BucketName) : `${id.toLowerCase()}-${hex(8)}`;
      case 'AWS::IAM::Role':
        return props.RoleName !== undefined ? this.resolve(props.RoleName) : `${id}-${hex(8)}`;
      case 'AWS::IAM::User':
        return props.UserName !== undefined ? this.resolve(props.UserName) : `${id}-${hex(8)}`;
      case 'AWS::IAM::Group':
        return props.GroupName !== undefined ? this.resolve(props.GroupName) : `${id}-${hex(8)}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${this.env.partition}:iam::${this.env.account}:policy/${id}-${hex(8)}`;
      case 'AWS::EC2::VPCEndpoint':
        return `vpce-${hex(17)}`;
      case 'AWS::EC2::VPC':
        return `vpc-${hex(17)}`;
      case 'AWS::KMS::Key':
        return `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:${this.env.partition}:secretsmanager:${this.env.region}:${this.env.account}:secret:${id}-${hex(6)}`;
      default:
        return id;
    }
  }

  /** What `Fn::GetAtt` returns. */
  public getAtt(id: string, attribute: string): string {
    const resource = this.resources[id];
    if (!resource) throw new Error(`GetAtt to unknown resource ${id}`);
    const { partition, account, region } = this.env;
    const key = `${resource.Type}.${attribute}`;
    const path = (resource.Properties?.Path as string | undefined) ?? '/';
    switch (key) {
      case 'AWS::S3::Bucket.Arn': return `arn:${partition}:s3:::${this.ref(id)}`;
      case 'AWS::IAM::Role.Arn': return `arn:${partition}:iam::${account}:role${path}${this.ref(id)}`;
      case 'AWS::IAM::User.Arn': return `arn:${partition}:iam::${account}:user${path}${this.ref(id)}`;
      case 'AWS::IAM::Group.Arn': return `arn:${partition}:iam::${account}:group${path}${this.ref(id)}`;
      case 'AWS::KMS::Key.Arn': return `arn:${partition}:kms:${region}:${account}:key/${this.ref(id)}`;
      default: {
        // Resources the S3 requests never touch (log groups, file systems...): any well-formed ARN.
        if (attribute !== 'Arn') throw new Error(`GetAtt ${key} is not simulated`);
        const [, service, type] = resource.Type.split('::');
        return `arn:${partition}:${service.toLowerCase()}:${region}:${account}:${type.toLowerCase()}/${this.ref(id)}`;
      }
    }
  }

  /** Resolves every intrinsic function in `value`. */
  public resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Ref') return this.ref(value.Ref);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id, attribute] = typeof value['Fn::GetAtt'] === 'string' ? value['Fn::GetAtt'].split('.') : value['Fn::GetAtt'];
      return this.getAtt(id, attribute);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [delimiter, items] = value['Fn::Join'];
      return (this.resolve(items) as string[]).join(delimiter);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub' && typeof value['Fn::Sub'] === 'string') {
      return (value['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [id, attribute] = name.split('.');
        return attribute === undefined ? this.ref(id) : this.getAtt(id, attribute);
      });
    }
    if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`Intrinsic ${keys.join(',')} is not simulated`);
    return Object.fromEntries(keys.map((k) => [k, this.resolve(value[k])]));
  }

  /** The resolved policy document of the bucket policy of `bucketName`. */
  public bucketPolicy(bucketName: string): Json {
    const id = this.ofType('AWS::S3::BucketPolicy').find((p) => this.resolve(this.resources[p].Properties.Bucket) === bucketName);
    if (!id) throw new Error(`No bucket policy for ${bucketName}`);
    return this.resolve(this.resources[id].Properties.PolicyDocument);
  }

  /** The resolved policy of the VPC endpoint with physical ID `vpceId`. */
  public endpointPolicy(vpceId: string): Json {
    const id = this.ofType('AWS::EC2::VPCEndpoint').find((e) => this.ref(e) === vpceId);
    if (!id) throw new Error(`No VPC endpoint ${vpceId}`);
    return this.resolve(this.resources[id].Properties.PolicyDocument);
  }

  /**
   * Every identity policy that applies to the role or user `logicalId`: managed policies naming
   * it (or, for a user, one of its groups) or listed in its `ManagedPolicyArns`, and inline ones.
   */
  public identityPolicies(logicalId: string): Array<{ name: string; policy: Json }> {
    const resource = this.resources[logicalId];
    const kind = resource.Type === 'AWS::IAM::Role' ? 'Roles' : resource.Type === 'AWS::IAM::User' ? 'Users' : undefined;
    if (!kind) throw new Error(`${logicalId} is not a role or user`);
    const names = new Set([this.ref(logicalId)]);
    const groups = new Set<string>(kind === 'Users' ? this.resolve(resource.Properties?.Groups ?? []) : []);
    for (const addition of this.ofType('AWS::IAM::UserToGroupAddition')) {
      const props = this.resolve(this.resources[addition].Properties);
      if ((props.Users as string[]).some((u) => names.has(u))) groups.add(props.GroupName);
    }
    const attachedArns = new Set<string>(this.resolve(resource.Properties?.ManagedPolicyArns ?? []));
    for (const group of this.ofType('AWS::IAM::Group').filter((g) => groups.has(this.ref(g)))) {
      for (const arn of this.resolve(this.resources[group].Properties?.ManagedPolicyArns ?? [])) attachedArns.add(arn);
    }
    const applies = (props: Json) => ((props[kind] ?? []) as string[]).some((n) => names.has(n))
      || ((props.Groups ?? []) as string[]).some((g) => groups.has(g));
    const policies: Array<{ name: string; policy: Json }> = [];
    for (const id of this.ofType('AWS::IAM::ManagedPolicy')) {
      const props = this.resolve(this.resources[id].Properties);
      if (attachedArns.has(this.ref(id)) || applies(props)) policies.push({ name: id, policy: props.PolicyDocument });
    }
    for (const id of this.ofType('AWS::IAM::Policy')) {
      const props = this.resolve(this.resources[id].Properties);
      if (applies(props)) policies.push({ name: id, policy: props.PolicyDocument });
    }
    return policies;
  }
}

/** Where a request comes from. */
export type Origin =
  /** From inside a VPC, through its S3 gateway endpoint. */
  | { readonly through: 'endpoint'; readonly vpceId: string; readonly vpcId?: string }
  /** From an address on the internet (or through a NAT gateway, whose public address S3 sees). */
  | { readonly through: 'internet'; readonly sourceIp: string };

/** Who signs a request. */
export interface SimulatedPrincipal {
  /** The ARN the request is signed as (a role session's ARN for a role). */
  readonly arn: string;
  /** `aws:PrincipalArn`: the role's or user's ARN. */
  readonly principalArn: string;
  readonly identityPolicies: ReadonlyArray<{ name: string; policy: Json }>;
}

/** A role's session with the role's identity policies. */
export function rolePrincipal(template: ResolvedTemplate, roleLogicalId: string): SimulatedPrincipal {
  const roleArn = template.getAtt(roleLogicalId, 'Arn');
  return {
    arn: `arn:aws:sts::${SIMULATED_ENV.account}:assumed-role/${template.ref(roleLogicalId)}/session`,
    principalArn: roleArn,
    identityPolicies: template.identityPolicies(roleLogicalId),
  };
}

/** An IAM user with its own and its groups' policies. */
export function userPrincipal(template: ResolvedTemplate, userLogicalId: string): SimulatedPrincipal {
  const arn = template.getAtt(userLogicalId, 'Arn');
  return { arn, principalArn: arn, identityPolicies: template.identityPolicies(userLogicalId) };
}

/** A principal of the account outside the template, with `AdministratorAccess`. */
export function administrator(roleName: string): SimulatedPrincipal {
  const roleArn = `arn:aws:iam::${SIMULATED_ENV.account}:role/${roleName}`;
  return {
    arn: `arn:aws:sts::${SIMULATED_ENV.account}:assumed-role/${roleName}/session`,
    principalArn: roleArn,
    identityPolicies: [{ name: 'AdministratorAccess', policy: ALLOW_ALL }],
  };
}

const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/**
 * The account's root user. IAM allows it everything in its own account unless an explicit deny
 * applies; the simulator has no such rule built in, so it gets an allow-all identity policy.
 */
export const ACCOUNT_ROOT: SimulatedPrincipal = {
  arn: `arn:aws:iam::${SIMULATED_ENV.account}:root`,
  principalArn: `arn:aws:iam::${SIMULATED_ENV.account}:root`,
  identityPolicies: [{ name: 'root', policy: ALLOW_ALL }],
};

/** One request to simulate. */
export interface SimulatedRequest {
  readonly principal: SimulatedPrincipal;
  readonly action: string;
  /** The resource ARN (`arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`). */
  readonly resource: string;
  /** The account that owns the resource. */
  readonly resourceAccount?: string;
  readonly origin: Origin;
  /** The resource's policy (the bucket policy). */
  readonly resourcePolicy?: Json;
  /** The endpoint's policy, for requests through an endpoint. */
  readonly endpointPolicy?: Json;
  /** Context keys the request itself sets (e.g. `s3:x-amz-server-side-encryption` from a header). */
  readonly requestKeys?: Readonly<Record<string, string>>;
}

/** The request context AWS builds for `request`. */
export function requestContext(request: SimulatedRequest): Record<string, string> {
  const context: Record<string, string> = {
    'aws:PrincipalArn': request.principal.principalArn,
    'aws:PrincipalAccount': request.principal.principalArn.split(':')[4],
    'aws:ResourceAccount': request.resourceAccount ?? SIMULATED_ENV.account,
    // The backend's SDK and the CLI speak HTTPS with TLS 1.2 or later.
    'aws:SecureTransport': 'true',
    's3:TlsVersion': '1.3',
  };
  if (request.origin.through === 'endpoint') {
    context['aws:SourceVpce'] = request.origin.vpceId;
    if (request.origin.vpcId) context['aws:SourceVpc'] = request.origin.vpcId;
    context['aws:VpcSourceIp'] = '10.0.8.17';
  } else {
    context['aws:SourceIp'] = request.origin.sourceIp;
  }
  return { ...context, ...request.requestKeys };
}

/** AWS's decision for one request: `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`. */
export async function decide(request: SimulatedRequest): Promise<string> {
  const result = await runSimulation({
    request: {
      principal: request.principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount ?? SIMULATED_ENV.account },
      contextVariables: requestContext(request),
    },
    identityPolicies: [...request.principal.identityPolicies],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
    vpcEndpointPolicies: request.origin.through === 'endpoint' && request.endpointPolicy ? [{ name: 'endpoint', policy: request.endpointPolicy }] : undefined,
  }, {});
  if (result.resultType === 'error') {
    throw new Error(`Simulation input rejected: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType !== 'single') throw new Error(`Expected one resource, got ${result.resultType}`);
  if ((result.result.ignoredContextKeys ?? []).length > 0) {
    throw new Error(`The simulator ignored context keys ${result.result.ignoredContextKeys!.join(', ')} for ${request.action}`);
  }
  return result.overallResult;
}
