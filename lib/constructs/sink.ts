import {
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwActions,
  Duration,
  type aws_ec2 as ec2,
  aws_iam as iam,
  type aws_kms as kms,
  aws_lambda as lambda,
  type RemovalPolicy,
  Stack,
  type aws_s3 as s3,
  aws_sns as sns,
} from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { METRIC_SERVICES, powertoolsEnvironment } from '../../lambdas/shared/metric-names';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../../lambdas/sink/config';
import type { DatasetDefinition } from '../../schemas';
import { alarmTopicName, type SinkSettings } from '../config/environments';
import { FAILED_BATCHES_PREFIX, QUARANTINE_SINK_PREFIX, rawTableName } from '../config/lake';
import { sinkConsumerGroup, sinkGroupPrefix, type TopicSpec } from '../config/topics';
import { allowWildcards, objectsUnder } from '../nag';
import { lakehouseFunction } from './lambda-function';
import type { Streaming } from './streaming';

export interface SinkProps {
  /** Names `<prefix>-sink` (function, consumer groups `<prefix>-sink-<topic>`) and `<prefix>-<alarm>`; the alarms publish to `<prefix>-alarms`. */
  readonly prefix: string;
  /** The function's size and its mappings' batching, retries and pollers (an environment's `sink`). */
  readonly settings: SinkSettings;
  readonly logRetentionDays: number;
  /**
   * The alarm on records given up sums every mapping's metrics (metric math); off only where the AWS
   * emulator refuses metric math (hybrid).
   * @default true
   */
  readonly metricMathAlarms?: boolean;
  readonly datasets: readonly DatasetDefinition[];
  readonly topics: readonly TopicSpec[];
  readonly streaming: Streaming;
  readonly raw: s3.IBucket;
  readonly quarantine: s3.IBucket;
  readonly lakeKey: kms.IKey;
  readonly glueDatabase: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The sink's own alarms (not SLOs), each with its runbook: batches failing again and again (the retry budget
 * running out), and batches the mappings gave up on — in the on-failure destination, or dropped.
 */
export const SINK_ALARMS = {
  'sink-failed-batches':
    'Sink: batches keep failing (Lambda errors in 3 consecutive 5-minute periods); after the retry budget the mapping gives them up',
  'sink-on-failure-records':
    'Sink: a batch exhausted its retries and is in the on-failure destination (or was dropped); run npm run replay',
} as const;
export type SinkAlarmId = keyof typeof SINK_ALARMS;

export function sinkRunbookPath(alarm: SinkAlarmId): string {
  return `runbooks/${alarm}.md`;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The sink: one MSK event source mapping per raw topic into the sink Lambda, which writes Parquet to the
 * raw zone and rejects to the quarantine zone. Its role may write only those prefixes (no read, no delete)
 * and register partitions of the raw tables. Batches that exhaust their retries land, whole, in the
 * quarantine bucket (S3 on-failure destination) — never dropped.
 */
export class Sink extends Construct {
  readonly handler: NodejsFunction;
  readonly mappings: lambda.EventSourceMapping[];
  /** Without metric math (services.metricMathAlarms, hybrid), no alarm on the records given up. */
  readonly alarms: Partial<Record<SinkAlarmId, cw.Alarm>>;

  constructor(scope: Construct, id: string, props: SinkProps) {
    super(scope, id);
    this.handler = this.createHandler(props);
    const role = this.handler.role as iam.IRole;
    this.allowLakeWrites(role, props);
    this.allowPollersInVpc(role);
    this.allowPartitionRegistration(role, props);
    this.mappings = this.mapTopics(props);
    this.alarms = this.createAlarms(props);
  }

  /** The function, in the VPC as a Kafka client, told its buckets and Glue database. */
  private createHandler(props: SinkProps): NodejsFunction {
    const { settings } = props;
    return lakehouseFunction(this, 'Handler', {
      functionName: `${props.prefix}-${METRIC_SERVICES.sink}`,
      entry: 'lambdas/sink/handler.ts',
      memoryMb: settings.memoryMb,
      timeoutSeconds: settings.timeoutSeconds,
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [props.streaming.clientSecurityGroup],
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
      environment: {
        [RAW_BUCKET]: props.raw.bucketName,
        [QUARANTINE_BUCKET]: props.quarantine.bucketName,
        [GLUE_DATABASE]: props.glueDatabase,
        ...powertoolsEnvironment(METRIC_SERVICES.sink),
      },
    });
  }

  /** Puts under its own prefixes only (no read, no delete), with the lake key. */
  private allowLakeWrites(role: iam.IRole, props: SinkProps): void {
    const put = (bucket: s3.IBucket, prefixes: string[]) =>
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: prefixes.map((p) => bucket.arnForObjects(`${p}/*`)),
        }),
      );
    put(
      props.raw,
      props.datasets.map((d) => d.name),
    );
    put(props.quarantine, [QUARANTINE_SINK_PREFIX, FAILED_BATCHES_PREFIX]);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.quarantine.bucketArn] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.lakeKey.keyArn],
      }),
    );
    allowWildcards(role, [
      {
        finding: objectsUnder(...props.datasets.map((d) => `${d.name}/`)),
        reason: "Writes Parquet objects under its datasets' prefixes of the raw bucket only.",
      },
      {
        finding: objectsUnder(`${QUARANTINE_SINK_PREFIX}/`, `${FAILED_BATCHES_PREFIX}/`),
        reason:
          'Writes rejected records (sink/) and failed batches (aws/lambda/, on-failure destination) only.',
      },
    ]);
  }

  /** What the event source mapping's pollers need in the VPC (they run as this role). */
  private allowPollersInVpc(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
      }),
    );
  }

  /** Registers partitions of its datasets' raw tables only. */
  private allowPartitionRegistration(role: iam.IRole, props: SinkProps): void {
    const { partition, region, account } = Stack.of(this);
    const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchCreatePartition'],
        resources: [
          glueArn('catalog'),
          glueArn(`database/${props.glueDatabase}`),
          ...props.datasets.map((d) => glueArn(`table/${props.glueDatabase}/${rawTableName(d.name)}`)),
        ],
      }),
    );
  }

  /** One mapping per raw topic, each in its own consumer group, which the handler may consume. */
  private mapTopics(props: SinkProps): lambda.EventSourceMapping[] {
    const { streaming } = props;
    const topics = props.topics.map((t) => t.name);
    const groups = topics.map((t) => sinkConsumerGroup(sinkGroupPrefix(props), t));
    streaming.grantConsume(this.handler, topics, groups);
    const delivery = mappingDelivery(props.settings, props.quarantine);
    return topics.map(
      (topic, i) =>
        new lambda.EventSourceMapping(this, `Mapping-${topic}`, {
          target: this.handler,
          ...(streaming.connection.kind === 'msk'
            ? { eventSourceArn: streaming.connection.clusterArn }
            : { kafkaBootstrapServers: streaming.connection.bootstrapServers.split(',') }),
          kafkaTopic: topic,
          kafkaConsumerGroupId: groups[i],
          ...delivery,
        }),
    );
  }

  /** SINK_ALARMS on the alarm topic (alarm and OK); without metric math, none on the records given up. */
  private createAlarms(props: SinkProps): Partial<Record<SinkAlarmId, cw.Alarm>> {
    const on = { prefix: props.prefix, topic: alarmTopic(this, props.prefix) };
    const alarm = (id: SinkAlarmId, metric: cw.IMetric, evaluationPeriods: number) =>
      metric instanceof cw.MathExpression && props.metricMathAlarms === false
        ? undefined
        : this.alarm(id, metric, evaluationPeriods, on);
    return {
      'sink-failed-batches': alarm(
        'sink-failed-batches',
        this.handler.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
        3,
      ),
      'sink-on-failure-records': alarm('sink-on-failure-records', this.recordsGivenUp(), 1),
    };
  }

  /** Records the mappings delivered to the on-failure destination or dropped, summed over every mapping. */
  private recordsGivenUp(): cw.MathExpression {
    const mappingMetric = (metricName: string, mapping: lambda.EventSourceMapping) =>
      new cw.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: { EventSourceMappingUUID: mapping.eventSourceMappingId },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    const givenUp = Object.fromEntries(
      this.mappings.flatMap((mapping, i) => [
        [`delivered${i}`, mappingMetric('OnFailureDestinationDeliveredEventCount', mapping)],
        [`dropped${i}`, mappingMetric('DroppedEventCount', mapping)],
      ]),
    );
    return new cw.MathExpression({
      expression: `SUM([${Object.keys(givenUp)
        .map((id) => `FILL(${id}, 0)`)
        .join(', ')}])`,
      usingMetrics: givenUp,
      label: 'Records given up by the sink mappings',
      period: FIVE_MINUTES,
    });
  }

  /** `<prefix>-<id>`, with its runbook, notifying the topic when it fires and when it clears. */
  private alarm(
    id: SinkAlarmId,
    metric: cw.IMetric,
    evaluationPeriods: number,
    on: { readonly prefix: string; readonly topic: sns.ITopic },
  ): cw.Alarm {
    const created = new cw.Alarm(this, `Alarm-${id}`, {
      alarmName: `${on.prefix}-${id}`,
      alarmDescription: `${SINK_ALARMS[id]}. Runbook: ${sinkRunbookPath(id)}`,
      metric,
      threshold: 1,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(new cwActions.SnsAction(on.topic));
    created.addOkAction(new cwActions.SnsAction(on.topic));
    return created;
  }
}

/**
 * How every mapping delivers: batching, retries, pollers, the metrics its alarm needs, and whole failed
 * batches to the quarantine bucket (S3 on-failure destination).
 */
function mappingDelivery(settings: SinkSettings, quarantine: s3.IBucket) {
  const onFailure: lambda.IEventSourceDlq = { bind: () => ({ destination: quarantine.bucketArn }) };
  return {
    batchSize: settings.batchSize,
    maxBatchingWindow: batchingWindow(settings.maxBatchingWindowSeconds),
    startingPosition: lambda.StartingPosition[settings.startingPosition],
    retryAttempts: settings.maxRetryAttempts,
    // The sink writes a batch's files under deterministic keys, so a whole-batch retry is idempotent;
    // it reports no per-record failures (see lambdas/sink/handler.ts).
    reportBatchItemFailures: false,
    // No bisecting either: a half batch would write other keys than the whole batch it came from.
    bisectBatchOnError: false,
    onFailure,
    provisionedPollerConfig: { minimumPollers: settings.minPollers, maximumPollers: settings.maxPollers },
    // OnFailureDestinationDeliveredEventCount and DroppedEventCount per mapping, for the alarm on them.
    metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT, lambda.MetricType.ERROR_COUNT] },
  } satisfies lambda.EventSourceMappingOptions;
}

/** Lambda's batching window for Kafka sources when the mapping sets none. */
export const KAFKA_DEFAULT_BATCHING_WINDOW_SECONDS = 0.5;

/** The mapping's MaximumBatchingWindowInSeconds: unset for Lambda's default, else whole seconds. */
export function batchingWindow(seconds: number): Duration | undefined {
  if (seconds === KAFKA_DEFAULT_BATCHING_WINDOW_SECONDS) return undefined;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
    throw new Error(
      `sink.maxBatchingWindowSeconds is ${seconds}: give whole seconds from 0 to 300, or ${KAFKA_DEFAULT_BATCHING_WINDOW_SECONDS} (Lambda's default for Kafka)`,
    );
  }
  return Duration.seconds(seconds);
}

/** The topic Observability creates (same name): referenced by ARN, as that stack deploys after this one. */
function alarmTopic(scope: Construct, prefix: string): sns.ITopic {
  return sns.Topic.fromTopicArn(
    scope,
    'AlarmTopic',
    Stack.of(scope).formatArn({ service: 'sns', resource: alarmTopicName({ prefix }) }),
  );
}
