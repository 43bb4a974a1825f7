import { App, aws_ec2 as ec2, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { type ConsumerAccess, environmentConfig } from '../../../lib/config/environments';
import { topicSpecs } from '../../../lib/config/topics';
import { Streaming } from '../../../lib/constructs/streaming';
import { DATASETS } from '../../../schemas';

/** Another team's consumer group gets read access to chosen topics only, from the environment's configuration. */
function synth(consumers: readonly ConsumerAccess[]) {
  const config = { ...environmentConfig('staging'), consumers };
  const stack = new Stack(new App(), 'Streaming', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  new Streaming(stack, 'Streaming', {
    prefix: config.prefix,
    environmentName: config.name,
    msk: config.msk,
    topicSettings: config.topics,
    logRetentionDays: config.logRetentionDays,
    consumers: config.consumers,
    vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    topics: topicSpecs(config, DATASETS),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  return Template.fromStack(stack);
}

const arn = (kind: 'topic' | 'group', name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:kafka:eu-west-1:123456789012:${kind}/lakehouse-staging-kafka/`,
      { 'Fn::Select': [2, { 'Fn::Split': ['/', Match.anyValue()] }] },
      `/${name}`,
    ],
  ],
});

describe('Streaming.grantConsumerAccess (configuration: consumers)', () => {
  test('a managed policy scoped to the chosen topics and the team groups, attached to its role', () => {
    const template = synth([
      {
        team: 'fraud',
        datasets: ['financial_transactions'],
        groups: ['fraud-scoring', 'fraud-replay'],
        roleArns: ['arn:aws:iam::123456789012:role/fraud-consumer'],
      },
    ]);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'lakehouse-staging-kafka-consumer-fraud',
      Roles: ['fraud-consumer'],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: Match.arrayWith(['kafka:GetBootstrapBrokers', 'kafka-cluster:Connect']),
            Resource: Match.anyValue(),
          }),
          {
            Effect: 'Allow',
            Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
            Resource: arn('topic', 'raw_financial_transactions'),
          },
          {
            Effect: 'Allow',
            Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
            Resource: [arn('group', 'fraud-scoring'), arn('group', 'fraud-replay')],
          },
        ],
      },
    });
    // Nothing on the other topic, nothing on the sink's groups, and no write.
    const policy = JSON.stringify(template.findResources('AWS::IAM::ManagedPolicy'));
    expect(policy).not.toContain('raw_insurance_claims');
    expect(policy).not.toContain('-sink-');
    expect(policy).not.toContain('WriteData');
    expect(policy).not.toContain('"*"');
  });

  test('none configured, none granted; unknown datasets and wildcard groups are refused', () => {
    synth([]).resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(() => synth([{ team: 'x', datasets: ['nope'], groups: ['g'] }])).toThrow(/no topic raw_nope/);
    expect(() => synth([{ team: 'x', datasets: ['insurance_claims'], groups: ['x-*'] }])).toThrow(
      /name its consumer groups exactly/,
    );
  });
});
