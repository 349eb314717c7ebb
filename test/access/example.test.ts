import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/grant-to-your-role';
import { unitTestApp } from '../helpers/cdk-app';

test('the grant example attaches the storage policy to a role in another stack, without a cycle', () => {
  const { storageStack, backendStack } = buildExampleApp(unitTestApp());
  const backend = Template.fromStack(backendStack);
  const [role] = Object.values(backend.findResources('AWS::IAM::Role')) as any[];
  // A cross-stack reference to the policy ARN (a weak reference with cdk.json's flags).
  expect(role.Properties.ManagedPolicyArns).toHaveLength(1);
  expect(JSON.stringify(role.Properties.ManagedPolicyArns[0])).toMatch(/ConvexStorage-prod.*OutputRefStorageBackendAccessPolicy/);
  expect(backendStack.dependencies).toEqual([storageStack]);
  expect(storageStack.dependencies).toEqual([]);
  const storage = Template.fromStack(storageStack);
  storage.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
  expect(JSON.stringify(storage.toJSON().Resources)).toContain('/my-app-????????-????-????-????-????????????/*');
});
