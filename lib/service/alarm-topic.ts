import { RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_sns as sns, aws_sns_subscriptions as subscriptions } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsResources } from '../iam/key-grant-guard';

/** Properties of {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /** The address that gets the alarms; it must confirm the subscription from the first e-mail. */
  readonly email: string;
}

/**
 * An SNS topic for the backend's alarms with one e-mail subscription: TLS required to publish,
 * encrypted with a key of its own. CloudWatch cannot publish to a topic under the AWS managed
 * key `aws/sns`, whose policy cannot be changed, so the topic has a customer-managed key whose
 * policy lets CloudWatch alarms of this account use it.
 */
export class AlarmTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** The topic's key. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the Convex backend alarm topic',
      enableKeyRotation: true,
      // It encrypts notifications in transit through SNS only, never data at rest.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    // No grants on this key: SNS and CloudWatch use it directly.
    this.key.addToResourcePolicy(denyGrantsExceptForAwsResources());
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Convex backend alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
