/**
 * The data volume's file system policy on its own: nobody may mount until grantReadWrite names
 * a principal, and no statement ever allows any principal (`{"AWS":"*"}`).
 */
import { CfnElement, Stack, aws_ec2 as ec2, aws_iam as iam } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConvexDataVolume } from '../../lib';
import { unitTestStack } from '../helpers/cdk-app';

function volume(stack: Stack): ConvexDataVolume {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'App', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  return new ConvexDataVolume(stack, 'Volume', { vpc });
}

function fileSystemPolicy(stack: Stack, v: ConvexDataVolume): { Statement: Array<Record<string, any>> } {
  const json = Template.fromStack(stack).toJSON();
  return json.Resources[stack.getLogicalId(v.fileSystem.node.defaultChild as CfnElement)].Properties.FileSystemPolicy;
}

const DENIES = ['DenyWithoutTls', 'DenyRootAccess'];

test('without a grant the policy allows nobody: only the two denies', () => {
  const stack = unitTestStack();
  const v = volume(stack);
  const policy = fileSystemPolicy(stack, v);
  expect(policy.Statement.map((s) => [s.Sid, s.Effect])).toEqual(DENIES.map((sid) => [sid, 'Deny']));
});

test('grantReadWrite allows exactly the grantee, mount and write, never root', () => {
  const stack = unitTestStack();
  const v = volume(stack);
  const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  v.grantReadWrite(role);
  const allows = fileSystemPolicy(stack, v).Statement.filter((s) => s.Effect === 'Allow');
  expect(allows).toHaveLength(1);
  expect(allows[0].Principal).toEqual({ AWS: stack.resolve(role.roleArn) });
  expect(allows[0].Action).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
  expect(allows[0].Condition.Bool).toEqual({ 'elasticfilesystem:AccessedViaMountTarget': 'true' });
  expect(Object.keys(allows[0].Condition.ArnLike)).toEqual(['elasticfilesystem:AccessPointArn']);
});

test('CDK\'s own client grants do not bring back the allow-any-principal statement', () => {
  const stack = unitTestStack();
  const v = volume(stack);
  const role = new iam.Role(stack, 'Other', { assumedBy: new iam.AccountRootPrincipal() });
  v.fileSystem.grantReadWrite(role);
  v.fileSystem.grantRead(role);
  const policy = fileSystemPolicy(stack, v);
  for (const statement of policy.Statement.filter((s) => s.Effect === 'Allow')) {
    expect(statement.Principal).not.toEqual({ AWS: '*' });
  }
  expect(policy.Statement.map((s) => s.Sid)).toEqual(DENIES);
});

test('the mount targets\' group opens no connection; the client group reaches only NFS on the volume and HTTP(S)', () => {
  const stack = unitTestStack();
  const volume = new ConvexDataVolume(stack, 'Volume', { vpc: new ec2.Vpc(stack, 'Vpc') });
  const json = Template.fromStack(stack).toJSON();
  const efsGroupId = stack.resolve((volume.fileSystem.connections.securityGroups[0].node.defaultChild as CfnElement).logicalId);
  const clientGroupId = stack.resolve((volume.clientSecurityGroup.node.defaultChild as CfnElement).logicalId);
  expect(json.Resources[efsGroupId].Properties.SecurityGroupEgress).toEqual([
    { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 },
  ]);
  expect(json.Resources[clientGroupId].Properties.SecurityGroupEgress.map((r: any) => [r.CidrIp, r.IpProtocol, r.FromPort, r.ToPort])).toEqual([
    ['0.0.0.0/0', 'tcp', 443, 443],
    ['0.0.0.0/0', 'tcp', 80, 80],
  ]);
  const egress = Object.values(json.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::EC2::SecurityGroupEgress');
  expect(egress.map((r) => [r.Properties.GroupId, r.Properties.FromPort, r.Properties.DestinationSecurityGroupId])).toEqual([
    [{ 'Fn::GetAtt': [clientGroupId, 'GroupId'] }, 2049, { 'Fn::GetAtt': [efsGroupId, 'GroupId'] }],
  ]);
});
