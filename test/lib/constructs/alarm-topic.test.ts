import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AlarmTopic } from '../../../lib/constructs/alarm-topic';

describe('AlarmTopic', () => {
  const synth = (email?: string) => {
    const stack = new Stack(new App(), 'Alarms');
    new AlarmTopic(stack, 'Topic', {
      topicName: 'lakehouse-test-alarms',
      keyAlias: 'alias/test-alarms',
      email,
    });
    return Template.fromStack(stack);
  };

  test('a KMS-encrypted topic CloudWatch may publish to', () => {
    const template = synth();
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'lakehouse-test-alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('an email subscription when configured', () => {
    synth('ops@example.com').hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});
