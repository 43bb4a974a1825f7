import {
  aws_ec2 as ec2,
  Fn,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  aws_msk as msk,
  type RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { topicOf } from '../../schemas';
import type { ConsumerAccess, MskSettings, TopicSettings } from '../config/environments';
import type { TopicSpec } from '../config/topics';

export interface StreamingProps {
  /** Names the cluster `<prefix>-kafka`, its key and configuration, and the consumer policies. */
  readonly prefix: string;
  /** The environment's name, which an error about its settings names. */
  readonly environmentName: string;
  /** The cluster: MSK Serverless, provisioned MSK, or a broker outside the deployment (hybrid). */
  readonly msk: MskSettings;
  /** What the provisioned cluster's configuration defaults topics to (an environment's `topics`). */
  readonly topicSettings: TopicSettings;
  readonly logRetentionDays: number;
  /** Other teams' consumers granted read access (an environment's `consumers`). */
  readonly consumers?: readonly ConsumerAccess[];
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly topics: readonly TopicSpec[];
  readonly removalPolicy: RemovalPolicy;
}

/** MSK's port for IAM-authenticated TLS clients. */
export const MSK_IAM_PORT = 9098;

/** How clients reach the cluster: MSK with IAM auth over TLS, or an external broker in plaintext (hybrid). */
export type KafkaConnection =
  | { readonly kind: 'msk'; readonly clusterArn: string }
  | { readonly kind: 'external'; readonly bootstrapServers: string };

/**
 * The Kafka cluster of an environment: MSK Serverless (dev) or provisioned MSK over every AZ (staging,
 * prod), IAM auth over TLS only, encrypted at rest with a customer key; the topics declared as
 * AWS::MSK::Topic from one list; helpers granting IAM scoped to those topics and named consumer groups.
 * With an external broker (hybrid), only the clients' security group: the broker and its topics are not
 * deployed, and a plaintext broker has no IAM to grant.
 */
export class Streaming extends Construct {
  readonly connection: KafkaConnection;
  readonly clusterName: string;
  /** Clients (the Lambdas, the event source mappings) join this group; the cluster admits only it. */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly topics: readonly TopicSpec[];
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: StreamingProps) {
    super(scope, id);
    const { prefix, vpc } = props;
    this.clusterName = `${prefix}-kafka`;
    this.prefix = prefix;
    this.topics = props.topics;
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSg', {
      vpc,
      description: 'Kafka clients of the lakehouse cluster',
    });
    if (props.msk.mode === 'external') {
      this.connection = { kind: 'external', bootstrapServers: props.msk.bootstrapServers };
      if (props.consumers?.length)
        throw new Error(`${props.environmentName}: consumers need MSK's IAM (msk.mode)`);
      return;
    }
    const settings = props.msk;
    const clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSg', {
      vpc,
      description: 'Lakehouse MSK cluster',
      allowAllOutbound: false,
    });
    const iamTls = ec2.Port.tcp(MSK_IAM_PORT);
    clusterSecurityGroup.addIngressRule(this.clientSecurityGroup, iamTls, 'IAM/TLS clients');
    // Event source mappings poll from ENIs in the cluster's own security group.
    clusterSecurityGroup.addIngressRule(clusterSecurityGroup, iamTls, 'event source mapping pollers');
    clusterSecurityGroup.addEgressRule(clusterSecurityGroup, ec2.Port.allTcp(), 'brokers and pollers');
    // Pollers call Lambda and STS over HTTPS (NAT or interface endpoints).
    clusterSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs for pollers');
    const subnetIds = vpc.selectSubnets(props.subnets).subnetIds;
    const securityGroups = [clusterSecurityGroup.securityGroupId];
    let clusterArn: string;

    if (settings.mode === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds, securityGroups }],
      });
      cluster.applyRemovalPolicy(props.removalPolicy);
      clusterArn = cluster.attrArn;
    } else {
      const key = new kms.Key(this, 'Key', {
        alias: `alias/${prefix}-kafka`,
        description: 'Encrypts the MSK broker volumes',
        enableKeyRotation: true,
      });
      const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
        retention: props.logRetentionDays,
        removalPolicy: props.removalPolicy,
      });
      const configuration = new msk.CfnConfiguration(this, 'Configuration', {
        name: `${prefix}-kafka`,
        kafkaVersionsList: [settings.kafkaVersion],
        serverProperties: [
          'auto.create.topics.enable=false',
          `default.replication.factor=${props.topicSettings.replicationFactor}`,
          `min.insync.replicas=${props.topicSettings.minInsyncReplicas}`,
          `num.partitions=${props.topicSettings.partitions}`,
          'unclean.leader.election.enable=false',
        ].join('\n'),
      });
      const cluster = new msk.CfnCluster(this, 'Cluster', {
        clusterName: this.clusterName,
        kafkaVersion: settings.kafkaVersion,
        numberOfBrokerNodes: settings.brokerCount,
        brokerNodeGroupInfo: {
          clientSubnets: subnetIds,
          instanceType: settings.instanceType,
          securityGroups,
          storageInfo: { ebsStorageInfo: { volumeSize: settings.volumeSizeGiB } },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: {
          encryptionAtRest: { dataVolumeKmsKeyId: key.keyArn },
          encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        },
        configurationInfo: { arn: configuration.attrArn, revision: 1 },
        enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
        loggingInfo: {
          brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } },
        },
      });
      cluster.applyRemovalPolicy(props.removalPolicy);
      clusterArn = cluster.attrArn;
    }
    this.connection = { kind: 'msk', clusterArn };

    for (const topic of props.topics) {
      const resource = new msk.CfnTopic(this, `Topic-${topic.name}`, {
        clusterArn,
        topicName: topic.name,
        partitionCount: topic.partitions,
        replicationFactor: topic.replicationFactor,
        configs: Fn.base64(JSON.stringify(topic.configs)),
      });
      resource.applyRemovalPolicy(props.removalPolicy);
    }
    for (const access of props.consumers ?? []) this.grantConsumerAccess(access);
  }

  /** The MSK cluster's ARN; an external broker has none. */
  get clusterArn(): string {
    if (this.connection.kind !== 'msk') throw new Error('An external Kafka broker has no cluster ARN');
    return this.connection.clusterArn;
  }

  /** `arn:aws:kafka:<region>:<account>:<kind>/<cluster name>/<cluster uuid>/<name>` */
  private resourceArn(kind: 'topic' | 'group', name: string): string {
    const { partition, region, account } = Stack.of(this);
    const clusterUuid = Fn.select(2, Fn.split('/', this.clusterArn));
    return `arn:${partition}:kafka:${region}:${account}:${kind}/${this.clusterName}/${clusterUuid}/${name}`;
  }

  topicArn(topic: string): string {
    return this.resourceArn('topic', topic);
  }

  groupArn(group: string): string {
    return this.resourceArn('group', group);
  }

  private clusterStatement(actions: string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2', 'kafka:DescribeCluster', ...actions],
      resources: [this.clusterArn],
    });
  }

  /** Produce to the given topics (acks=all; the producer is not idempotent, see lambdas/ingest/kafka/kafkajs.ts). */
  grantProduce(grantee: iam.IGrantable, topics: readonly string[]): void {
    if (this.connection.kind === 'external') return;
    grantee.grantPrincipal.addToPrincipalPolicy(this.clusterStatement(['kafka-cluster:Connect']));
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        resources: topics.map((t) => this.topicArn(t)),
      }),
    );
  }

  /** Reading the topics as the groups, committing and resetting the groups' offsets (replay). */
  private consumeStatements(topics: readonly string[], groups: readonly string[]): iam.PolicyStatement[] {
    return [
      this.clusterStatement(['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration']),
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resources: topics.map((t) => this.topicArn(t)),
      }),
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resources: groups.map((g) => this.groupArn(g)),
      }),
    ];
  }

  /** Consume the given topics as the given consumer groups (what an event source mapping needs). */
  grantConsume(grantee: iam.IGrantable, topics: readonly string[], groups: readonly string[]): void {
    if (this.connection.kind === 'external') return;
    for (const statement of this.consumeStatements(topics, groups)) {
      grantee.grantPrincipal.addToPrincipalPolicy(statement);
    }
  }

  /**
   * Lets another team's consumer groups read chosen topics, independently of the sink's groups and from
   * any retained offset: a managed policy `<prefix>-kafka-consumer-<team>` scoped to those topic and group
   * ARNs, attached to the team's roles when given. Called for every `consumers` entry of the environment.
   */
  grantConsumerAccess(access: ConsumerAccess): iam.ManagedPolicy {
    const topics = access.datasets.map((name) => topicOf({ name }));
    const unknown = topics.filter((t) => !this.topics.some((spec) => spec.name === t));
    if (!/^[a-z0-9-]+$/.test(access.team)) {
      throw new Error(`Consumer team "${access.team}": use lower-case letters, digits and dashes`);
    }
    if (unknown.length > 0 || topics.length === 0) {
      throw new Error(
        `Consumer ${access.team}: no topic ${unknown.join(', ') || '(none named)'} on this cluster`,
      );
    }
    const invalidGroups = access.groups.filter((g) => !/^[A-Za-z0-9._-]+$/.test(g));
    if (invalidGroups.length > 0 || access.groups.length === 0) {
      throw new Error(
        `Consumer ${access.team}: name its consumer groups exactly (got ${access.groups.join(', ')})`,
      );
    }
    return new iam.ManagedPolicy(this, `Consumer-${access.team}`, {
      managedPolicyName: `${this.prefix}-kafka-consumer-${access.team}`,
      description: `Team ${access.team} reads ${topics.join(', ')} as ${access.groups.join(', ')}`,
      statements: this.consumeStatements(topics, access.groups),
      roles: (access.roleArns ?? []).map((arn, i) =>
        iam.Role.fromRoleArn(this, `Consumer-${access.team}-Role${i}`, arn, { mutable: false }),
      ),
    });
  }
}
