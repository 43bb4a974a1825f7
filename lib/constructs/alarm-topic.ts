import {
  aws_iam as iam,
  aws_kms as kms,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** The topic is named so (alarmTopicName): the sink's alarms publish to it by name. */
  readonly topicName: string;
  /** Alias of the key that encrypts the topic. */
  readonly keyAlias: string;
  /**
   * An address subscribed to every alarm.
   * @default no subscription
   */
  readonly email?: string;
}

/** The KMS-encrypted SNS topic every alarm (and Grafana's notifications) publishes to. */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      alias: props.keyAlias,
      description: 'Encrypts the alarm topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
