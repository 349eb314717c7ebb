import { Template } from 'aws-cdk-lib/assertions';
import { MyConvexStack } from '../../examples/storage-in-your-stack';
import { unitTestApp } from '../helpers/cdk-app';

test('the README example synthesizes: five KMS buckets named by prefix, and the env as outputs', () => {
  const stack = new MyConvexStack(unitTestApp(), 'MyConvexStack');
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::KMS::Key', 1);
  template.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-convex-prod-exports' });
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'AwsRegion', 'AwsS3DisableSse', 'FilesBucketArn', 'S3StorageExportsBucket', 'S3StorageFilesBucket',
    'S3StorageModulesBucket', 'S3StorageSearchBucket', 'S3StorageSnapshotImportsBucket',
  ]);
});
