import {
  type aws_apigateway as apigw,
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  type RemovalPolicy,
  type aws_s3 as s3,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  METRIC_SERVICES,
  METRICS_NAMESPACE,
  SINK_METRICS,
  SPARK_METRICS,
} from '../../lambdas/shared/metric-names';
import { alarmTopicName, type DeployableConfig } from '../config/environments';
import type { OverviewPanel } from '../dashboards/overview';
import { GrafanaWorkspace } from './grafana';

export interface ObservabilityProps {
  readonly config: DeployableConfig;
  readonly api: apigw.RestApi;
  readonly ingest: IFunction;
  readonly sink: IFunction;
  /** The Lambdas' log groups, which Grafana may query. */
  readonly logGroups: readonly logs.ILogGroup[];
  readonly glueJobNames: readonly string[];
  readonly emrApplicationId: string;
  /** What Grafana's Athena data source may read: curated and gold (never raw or quarantine payloads). */
  readonly queryBuckets: readonly s3.IBucket[];
  /** Glue tables Grafana may not read. */
  readonly hiddenTablePatterns: readonly string[];
  /** Where Athena writes query results for Grafana. */
  readonly resultsBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  readonly glueDatabase: string;
  readonly removalPolicy: RemovalPolicy;
}

/** The SLOs of SPEC §8; each has one alarm and one runbook, runbooks/<id>.md. */
export const SLOS = {
  'ingest-latency': 'Ingestion: API accept to raw-zone Parquet < 5 s for 99% of records',
  'consumer-lag': 'Streaming: consumer lag < 10,000 messages 99.9% of the time',
  'batch-jobs': 'Batch jobs: 99% succeed; < 60 min for 95% of runs',
  'data-quality': 'Data quality: records rejected < 0.1%',
  'api-availability': 'API: availability 99.99%',
} as const;
export type SloId = keyof typeof SLOS;

export function runbookPath(slo: SloId): string {
  return `runbooks/${slo}.md`;
}

/** What an alarm's reader looks at first, and the overview panel that shows its indicator. */
export const ALARM_GUIDE: Record<SloId, { readonly panel: OverviewPanel; readonly firstSteps: string }> = {
  'ingest-latency': {
    panel: 'acceptToParquet',
    firstSteps:
      'Is the sink lagging (consumer lag panel) or slow (sink Duration p99, BatchFailures)? Check sink errors in its log group.',
  },
  'consumer-lag': {
    panel: 'consumerLag',
    firstSteps:
      'Is the sink failing (Errors, BatchFailures) or throttled, or did the API rate jump? Check the sink log group, then pollers.',
  },
  'batch-jobs': {
    panel: 'sparkFailures',
    firstSteps:
      'Read the failed run in the job-failures log group (Glue/EMR event), then the run driver log; rerun is safe (idempotent).',
  },
  'data-quality': {
    panel: 'sinkRecords',
    firstSteps:
      'Read reason and detail of the newest quarantine rows; one producer or one field? A schema change upstream is the usual cause.',
  },
  'api-availability': {
    panel: 'apiRequests',
    firstSteps:
      'Are the 5xx 503s (Kafka unavailable panel: MSK health, broker connectivity) or 500s (ingest errors in its log group)?',
  },
};

const sinkMetric = (metricName: string, statistic: string, period: Duration) =>
  new cw.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRIC_SERVICES.sink },
    statistic,
    period,
  });

/**
 * Alarms (one per SLO, each linking its runbook) into a KMS-encrypted SNS topic, a CloudWatch dashboard,
 * and an Amazon Managed Grafana workspace (service-managed permissions; CloudWatch and Athena sources)
 * for the dashboards kept as code in dashboards/.
 */
export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<SloId, cw.Alarm>;
  readonly grafana: GrafanaWorkspace;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;

    const key = new kms.Key(this, 'AlarmsKey', {
      alias: `alias/${config.prefix}-alarms`,
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
    this.topic = new sns.Topic(this, 'Alarms', {
      topicName: alarmTopicName(config),
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarms.email)
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));

    // Glue and EMR Serverless report failed runs as events; a log group keeps them and a metric counts them.
    const jobFailures = new logs.LogGroup(this, 'JobFailures', {
      retention: config.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    new logs.ResourcePolicy(this, 'JobFailuresFromEvents', {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [
            new iam.ServicePrincipal('events.amazonaws.com'),
            new iam.ServicePrincipal('delivery.logs.amazonaws.com'),
          ],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [jobFailures.logGroupArn],
        }),
      ],
    });
    const toLog: events.IRuleTarget = { bind: () => ({ arn: jobFailures.logGroupArn }) };
    new events.Rule(this, 'GlueJobFailed', {
      description: 'Failed or timed-out Glue job runs of the lakehouse',
      eventPattern: {
        source: ['aws.glue'],
        detailType: ['Glue Job State Change'],
        detail: { jobName: [...props.glueJobNames], state: ['FAILED', 'TIMEOUT', 'ERROR'] },
      },
      targets: [toLog],
    });
    new events.Rule(this, 'EmrJobFailed', {
      description: 'Failed EMR Serverless job runs of the lakehouse',
      eventPattern: {
        source: ['aws.emr-serverless'],
        detailType: ['EMR Serverless Job Run State Change'],
        detail: { applicationId: [props.emrApplicationId], state: ['FAILED'] },
      },
      targets: [toLog],
    });
    const failedRuns = jobFailures
      .addMetricFilter('FailedRuns', {
        filterPattern: logs.FilterPattern.allEvents(),
        metricNamespace: METRICS_NAMESPACE,
        metricName: SPARK_METRICS.jobFailures,
        metricValue: '1',
        defaultValue: 0,
      })
      .metric({ statistic: 'Sum', period: Duration.hours(1) });

    this.grafana = new GrafanaWorkspace(this, 'Grafana', {
      config,
      queryBuckets: props.queryBuckets,
      resultsBucket: props.resultsBucket,
      lakeKey: props.lakeKey,
      glueDatabase: props.glueDatabase,
      hiddenTablePatterns: props.hiddenTablePatterns,
      logGroups: [...props.logGroups, jobFailures],
      ingestFunctionName: props.ingest.functionName,
      sinkFunctionName: props.sink.functionName,
      notifications: this.topic,
      removalPolicy: props.removalPolicy,
    });

    const fiveMinutes = Duration.minutes(5);
    const latency = sinkMetric(SINK_METRICS.acceptToWriteLatencyMax, 'p99', fiveMinutes);
    const lag = new cw.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'OffsetLag',
      dimensionsMap: { FunctionName: props.sink.functionName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const quarantined = sinkMetric(SINK_METRICS.recordsQuarantined, 'Sum', Duration.hours(1));
    const written = sinkMetric(SINK_METRICS.recordsWritten, 'Sum', Duration.hours(1));
    const rejectedRatio = new cw.MathExpression({
      expression: 'IF(q + w > 0, q / (q + w), 0)',
      usingMetrics: { q: quarantined, w: written },
      period: Duration.hours(1),
      label: 'Rejected ratio',
    });
    const api5xxRatio = new cw.MathExpression({
      expression: 'IF(n > 0, e / n, 0)',
      usingMetrics: {
        e: props.api.metricServerError({ statistic: 'Sum', period: fiveMinutes }),
        n: props.api.metricCount({ statistic: 'Sum', period: fiveMinutes }),
      },
      period: fiveMinutes,
      label: '5xx ratio',
    });

    const alarm = (
      slo: SloId,
      metric: cw.IMetric,
      threshold: number,
      evaluationPeriods: number,
      comparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) => {
      const created = new cw.Alarm(this, `Slo-${slo}`, {
        alarmName: `${config.prefix}-slo-${slo}`,
        alarmDescription: [
          `${SLOS[slo]}.`,
          `First steps: ${ALARM_GUIDE[slo].firstSteps}`,
          `Dashboard: ${this.grafana.panelUrl(ALARM_GUIDE[slo].panel)}`,
          `Runbook: ${runbookPath(slo)}`,
        ].join('\n'),
        metric,
        threshold,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        comparisonOperator,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new cwActions.SnsAction(this.topic));
      created.addOkAction(new cwActions.SnsAction(this.topic));
      return created;
    };
    const { alarms: t } = config;
    this.alarms = {
      'ingest-latency': alarm('ingest-latency', latency, t.ingestLatencyP99Ms, 3),
      'consumer-lag': alarm('consumer-lag', lag, t.consumerLagMessages, 5),
      'batch-jobs': alarm(
        'batch-jobs',
        failedRuns,
        1,
        1,
        cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ),
      'data-quality': alarm('data-quality', rejectedRatio, t.rejectedRatio, 1),
      'api-availability': alarm('api-availability', api5xxRatio, t.api5xxRatio, 3),
    };

    const dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: `${config.prefix}-overview`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cw.AlarmStatusWidget({ title: 'SLOs', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'API requests and errors',
        left: [props.api.metricCount(), props.api.metricClientError(), props.api.metricServerError()],
        right: [props.api.metricLatency({ statistic: 'p99' })],
      }),
      new cw.GraphWidget({ title: 'API 5xx ratio (SLO)', left: [api5xxRatio] }),
      new cw.GraphWidget({ title: 'Accept to Parquet p99 (ms, SLO)', left: [latency] }),
    );
    dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Sink consumer lag (SLO)', left: [lag] }),
      new cw.GraphWidget({
        title: 'Sink records and files',
        left: [written, quarantined],
        right: [sinkMetric(SINK_METRICS.filesWritten, 'Sum', fiveMinutes)],
      }),
      new cw.GraphWidget({ title: 'Rejected ratio (SLO)', left: [rejectedRatio] }),
    );
    dashboard.addWidgets(
      ...[props.ingest, props.sink].map(
        (fn) =>
          new cw.GraphWidget({
            title: `Lambda ${fn === props.ingest ? 'ingest' : 'sink'}`,
            left: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()],
            right: [fn.metricDuration({ statistic: 'p99' })],
          }),
      ),
      new cw.GraphWidget({ title: 'Spark job failures (SLO)', left: [failedRuns] }),
    );
  }
}
