/**
 * The checks of backendSourceIps and backendVpcEndpointIds, in the constructs and in the app.
 */
import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { BackendAccessMode } from '../../lib/access/access-options';
import { BackendUser } from '../../lib/access/backend-user';
import { sourceIpListProblems, sourceIpProblems, vpcEndpointIdProblems } from '../../lib/access/network-options';
import { readAppConfig } from '../../lib/app/app-config';
import { ConvexBackend } from '../../lib/ecs/convex-backend';
import { ConvexStorageStack } from '../../lib/stack/convex-storage-stack';
import { ConvexStorage } from '../../lib/storage/convex-storage';
import { unitTestApp, unitTestStack } from '../helpers/cdk-app';

describe('sourceIpProblems', () => {
  test.each(['203.0.113.7/32', '203.0.113.0/24', '198.51.100.0/22', '2001:db8:1234::/48', '2001:db8::1/128', '8.8.8.8/32'])('accepts %s', (cidr) => {
    expect(sourceIpProblems(cidr)).toEqual([]);
  });

  test.each([
    ['203.0.113.7', /no prefix length; write one address as '203.0.113.7\/32'/],
    ['2001:db8::1', /write one address as '2001:db8::1\/128'/],
    ['203.0.113.7/24', /host bits set; the block is '203.0.113.0\/24'/],
    ['2001:db8:1234:5::/48', /host bits set; the block is '2001:db8:1234::\/48'/],
    ['0.0.0.0/0', /allows every address.*drop backendSourceIps/],
    ['::/0', /allows every address/],
    ['10.1.0.0/16', /non-public range 10\.0\.0\.0\/8.*public address.*\/32/],
    ['192.168.1.10/32', /non-public range 192\.168\.0\.0\/16/],
    ['172.20.0.0/16', /non-public range 172\.16\.0\.0\/12/],
    ['0.0.0.0/1', /non-public range 10\.0\.0\.0\/8/],
    ['fd00::/8', /non-public range fc00::\/7/],
    ['203.0.113.7/33', /not an IPv4 or IPv6 CIDR block/],
    ['256.0.0.1/32', /not an IPv4 or IPv6 CIDR block/],
    ['my-office', /not an IPv4 or IPv6 CIDR block/],
  ])('rejects %s', (cidr, message) => {
    expect(sourceIpProblems(cidr)).toEqual([expect.stringMatching(message)]);
  });

  test('an empty list would deny everything and is rejected', () => {
    expect(sourceIpListProblems('backendSourceIps', [])).toEqual([expect.stringMatching(/backendSourceIps is empty, which would deny the backend every request/)]);
  });
});

test('vpcEndpointIdProblems accepts both ID lengths and names the command that lists them', () => {
  expect(vpcEndpointIdProblems('vpce-1a2b3c4d')).toEqual([]);
  expect(vpcEndpointIdProblems('vpce-0a1b2c3d4e5f60718')).toEqual([]);
  expect(vpcEndpointIdProblems('vpc-0a1b2c3d4e5f60718')).toEqual([expect.stringMatching(/not a VPC endpoint ID.*aws ec2 describe-vpc-endpoints/)]);
});

describe('the app context', () => {
  const read = (context: Record<string, unknown>) => readAppConfig(unitTestApp(context));

  test('takes comma-separated lists with -c and JSON arrays from cdk.json', () => {
    expect(read({ access: 'user', backendSourceIps: '203.0.113.7/32, 2001:db8::/32' }).access.backendSourceIps).toEqual(['203.0.113.7/32', '2001:db8::/32']);
    expect(read({ backendVpcEndpointIds: ['vpce-1a2b3c4d'] }).storage.backendVpcEndpointIds).toEqual(['vpce-1a2b3c4d']);
  });

  test('reports every bad value in one round, naming the setting', () => {
    expect(() => read({ access: 'user', backendSourceIps: '10.0.0.0/8,203.0.113.7', backendVpcEndpointIds: 'vpce-zz' })).toThrow(
      /backendVpcEndpointIds: 'vpce-zz' is not a VPC endpoint ID[\s\S]*backendVpcEndpointIds confines the backend's role[\s\S]*backendSourceIps: '10\.0\.0\.0\/8' is in the non-public range[\s\S]*backendSourceIps: '203\.0\.113\.7' has no prefix length/,
    );
    expect(() => read({ backendSourceIps: ',' })).toThrow(/backendSourceIps: ',' is not valid; expected CIDR blocks separated by commas/);
  });

  test('backendSourceIps is for access user: a role is confined by its VPC endpoint', () => {
    expect(() => read({ backendSourceIps: '203.0.113.7/32' })).toThrow(/backendSourceIps restricts the IAM user of access user.*backendVpcEndpointIds/);
  });
});

describe('the constructs', () => {
  test('BackendUser rejects bad sourceIps before it creates anything', () => {
    const stack = unitTestStack();
    const storage = new ConvexStorage(stack, 'Storage');
    expect(() => new BackendUser(stack, 'User', { storage, sourceIps: ['0.0.0.0/0'] })).toThrow(/Invalid BackendUser properties.*\n.*sourceIps: '0\.0\.0\.0\/0' allows every address/);
  });

  test('the stack reports a bad backendSourceIps with its other problems', () => {
    expect(() => new ConvexStorageStack(unitTestApp(), 'S', { backendSourceIps: [] })).toThrow(
      /backendSourceIps restricts the IAM user[\s\S]*backendSourceIps is empty/,
    );
  });

  test('ConvexStorage rejects bad backendVpcEndpointIds', () => {
    expect(() => new ConvexStorage(unitTestStack(), 'Storage', { backendVpcEndpointIds: ['vpce-XYZ'] })).toThrow(/backendVpcEndpointIds: 'vpce-XYZ' is not a VPC endpoint ID/);
  });

  test('backendVpcEndpointIds restricts every role granted access, and refuses a group, which no bucket policy can name', () => {
    const stack = unitTestStack();
    const storage = new ConvexStorage(stack, 'Storage', { backendVpcEndpointIds: ['vpce-1a2b3c4d'] });
    const role = new iam.Role(stack, 'Backend', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    storage.grantBackendAccess(role);
    expect(() => storage.grantBackendAccess(new iam.Group(stack, 'Group'))).toThrow(/is an IAM group, which is never the principal of a request/);
    const policies = Object.fromEntries(Object.entries(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy')).filter(([id]) => !id.includes('AccessLogs')));
    expect(Object.keys(policies)).toHaveLength(5);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
        Sid: 'DenyBackendOutsideVpcEndpoints',
        Condition: { ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [stack.getLogicalId(role.node.defaultChild as iam.CfnRole), 'Arn'] }] }, StringNotEquals: { 'aws:SourceVpce': ['vpce-1a2b3c4d'] } },
      }));
    }
  });

  test('backendVpcEndpointIds plus the VPC the backend creates: one deny per bucket that admits both endpoints, not two that lock the role out', () => {
    const stack = unitTestStack();
    const storage = new ConvexStorage(stack, 'Storage', { backendVpcEndpointIds: ['vpce-1a2b3c4d'] });
    const backend = new ConvexBackend(stack, 'Backend', { storage });
    const ownEndpoint = stack.resolve(backend.network!.s3Endpoint.vpcEndpointId);
    const policies = Object.entries(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy')).filter(([id]) => !id.includes('AccessLogs'));
    expect(policies).toHaveLength(5);
    for (const [, policy] of policies) {
      const denies = (policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>).filter((s) => s.Sid?.startsWith('DenyBackendOutsideVpcEndpoints'));
      expect(denies).toHaveLength(1);
      expect(denies[0].Condition.StringNotEquals['aws:SourceVpce']).toEqual(['vpce-1a2b3c4d', ownEndpoint]);
    }
  });

  test('a backend role in another stack is refused with the fix, instead of a cross-stack cycle', () => {
    const app = unitTestApp();
    const storageStack = new ConvexStorageStack(app, 'Storage', { storage: { backendVpcEndpointIds: ['vpce-1a2b3c4d'] }, trustedPrincipal: 'ec2.amazonaws.com' });
    const other = new ConvexStorageStack(app, 'Other');
    const role = new iam.Role(other, 'Backend', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    expect(() => storageStack.storage.grantBackendAccess(role)).toThrow(/defined in stack Other.*iam\.Role\.fromRoleArn/);
    const imported = iam.Role.fromRoleArn(other, 'Imported', 'arn:aws:iam::123456789012:role/convex-backend');
    expect(() => storageStack.storage.grantBackendAccess(imported)).not.toThrow();
  });

  test('access user with sourceIps: the group holds the deny, in a managed policy (no inline policy)', () => {
    const stack = new ConvexStorageStack(unitTestApp(), 'U', { access: BackendAccessMode.USER, backendSourceIps: ['203.0.113.7/32'] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    const restriction = template.toJSON().Resources[stack.getLogicalId(stack.backendUser!.sourceIpRestriction!.node.defaultChild as iam.CfnManagedPolicy)];
    expect(restriction.Properties.Groups).toEqual([{ Ref: stack.getLogicalId(stack.backendUser!.group.node.defaultChild as iam.CfnGroup) }]);
    expect(restriction.Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({
      Sid: 'DenyBackendOutsideSourceIps', Effect: 'Deny', Action: 's3:*', Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.7/32'] } },
    })]);
  });
});

test('ConvexBackend in another stack than its storage leaves the storage unrestricted, with a warning that says how', () => {
  const app = unitTestApp();
  const storage = new ConvexStorage(new Stack(app, 'Storage'), 'Storage');
  const compute = new Stack(app, 'Compute');
  new ConvexBackend(compute, 'Convex', { storage, cloudOrigin: 'https://api.convex.example.com', siteOrigin: 'https://site.convex.example.com' });
  Annotations.fromStack(compute).hasWarning('/Compute/Convex/Network', Match.stringLikeRegexp('not in the stack of its VPC.*backendVpcEndpointIds'));
  const policies = Template.fromStack(storage.node.scope as Stack).findResources('AWS::S3::BucketPolicy');
  expect(JSON.stringify(policies)).not.toContain('aws:SourceVpce');
});
