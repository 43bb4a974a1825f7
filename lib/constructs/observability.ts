import {
  type aws_apigateway as apigw,
  aws_athena as athena,
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_events as events,
  aws_grafana as grafana,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  type RemovalPolicy,
  Stack,
  type aws_s3 as s3,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE } from '../../lambdas/ingest/config';
import type { EnvironmentConfig } from '../config/environments';
import { allowWildcards } from '../nag';
import { SINK_SERVICE_NAME } from './sink';

export interface ObservabilityProps {
  readonly config: EnvironmentConfig;
  readonly api: apigw.RestApi;
  readonly ingest: IFunction;
  readonly sink: IFunction;
  readonly glueJobNames: readonly string[];
  readonly emrApplicationId: string;
  /** What Grafana's Athena data source may read: the lake's query zones, their key, the catalog. */
  readonly queryBuckets: readonly s3.IBucket[];
  /** Where Athena writes query results for Grafana. */
  readonly resultsBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  readonly glueDatabase: string;
  readonly removalPolicy: RemovalPolicy;
}

const ATHENA_RESULTS_PREFIX = 'athena-results/grafana';

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

const sinkMetric = (metricName: string, statistic: string, period: Duration) =>
  new cw.Metric({
    namespace: DEFAULT_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SINK_SERVICE_NAME },
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
  readonly workspace: grafana.CfnWorkspace;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;
    const { partition, region, account } = Stack.of(this);
    const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;

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
      topicName: `${config.prefix}-alarms`,
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
        metricNamespace: DEFAULT_METRICS_NAMESPACE,
        metricName: 'SparkJobFailures',
        metricValue: '1',
        defaultValue: 0,
      })
      .metric({ statistic: 'Sum', period: Duration.hours(1) });

    const fiveMinutes = Duration.minutes(5);
    const latency = sinkMetric('AcceptToWriteLatencyMax', 'p99', fiveMinutes);
    const lag = new cw.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'OffsetLag',
      dimensionsMap: { FunctionName: props.sink.functionName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const quarantined = sinkMetric('RecordsQuarantined', 'Sum', Duration.hours(1));
    const written = sinkMetric('RecordsWritten', 'Sum', Duration.hours(1));
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
        alarmDescription: `${SLOS[slo]}. Runbook: ${runbookPath(slo)}`,
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
        right: [sinkMetric('FilesWritten', 'Sum', fiveMinutes)],
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

    const grafanaRole = new iam.Role(this, 'GrafanaRole', {
      assumedBy: new iam.ServicePrincipal('grafana.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: 'Managed Grafana reads CloudWatch and queries the lake through Athena',
    });
    grafanaRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'cloudwatch:DescribeAlarms',
          'cloudwatch:GetMetricData',
          'cloudwatch:ListMetrics',
          'cloudwatch:GetInsightRuleReport',
          'logs:DescribeLogGroups',
          'logs:GetLogGroupFields',
          'logs:StartQuery',
          'logs:StopQuery',
          'logs:GetQueryResults',
          'logs:GetLogEvents',
          'tag:GetResources',
          'athena:ListWorkGroups',
          'athena:ListDataCatalogs',
          'athena:ListDatabases',
          'athena:ListTableMetadata',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StartQueryExecution',
          'athena:StopQueryExecution',
          'athena:GetWorkGroup',
        ],
        resources: ['*'],
      }),
    );
    const allow = (actions: string[], resources: string[]) =>
      grafanaRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    allow(
      ['s3:GetObject'],
      props.queryBuckets.map((b) => b.arnForObjects('*')),
    );
    allow(
      ['s3:ListBucket', 's3:GetBucketLocation'],
      [...props.queryBuckets, props.resultsBucket].map((b) => b.bucketArn),
    );
    allow(
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      [props.resultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}/*`)],
    );
    props.lakeKey.grant(grafanaRole, 'kms:Decrypt', 'kms:GenerateDataKey');
    this.topic.grantPublish(grafanaRole);
    grafanaRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'glue:GetDatabase',
          'glue:GetDatabases',
          'glue:GetTable',
          'glue:GetTables',
          'glue:GetPartitions',
        ],
        resources: [
          glueArn('catalog'),
          glueArn(`database/${props.glueDatabase}`),
          glueArn(`table/${props.glueDatabase}/*`),
        ],
      }),
    );
    allowWildcards(grafanaRole, [
      {
        finding: /^Resource::[^/]*Lake(raw|curated|gold|quarantine)[^/]*\/\*$/,
        reason: 'Athena dashboards read (only read) any object of the lake zones they query.',
      },
      {
        finding: new RegExp(`^Resource::.*/${ATHENA_RESULTS_PREFIX}/\\*$`),
        reason: 'Athena writes Grafana query results under one prefix.',
      },
      {
        finding: new RegExp(`^Resource::arn:[^:]+:glue:[^:]+:[^:]+:table/${props.glueDatabase}/\\*$`),
        reason: 'Tables of the lakehouse database only.',
      },
      {
        finding: /^Action::kms:GenerateDataKey\*$/,
        reason:
          'Publishing to the KMS-encrypted alarm topic (Grafana notifications) needs data keys of its key only.',
      },
      {
        finding: /^Resource::\*$/,
        reason:
          'CloudWatch metric/alarm/Logs Insights reads and Athena list/query actions have no resource-level permissions (AWS documented Grafana data-source policies).',
      },
    ]);
    const workGroup = new athena.CfnWorkGroup(this, 'GrafanaWorkGroup', {
      name: `${config.prefix}-grafana`,
      description: 'Queries of the Grafana Athena data source',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: props.resultsBucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.lakeKey.keyArn },
        },
      },
      tags: [{ key: 'GrafanaDataSource', value: 'true' }],
    });
    this.workspace = new grafana.CfnWorkspace(this, 'Grafana', {
      name: `${config.prefix}-grafana`,
      description: 'Lakehouse dashboards (dashboards/ in the repository)',
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders: ['AWS_SSO'],
      permissionType: 'SERVICE_MANAGED',
      roleArn: grafanaRole.roleArn,
      dataSources: ['CLOUDWATCH', 'ATHENA'],
      notificationDestinations: ['SNS'],
    });
    this.workspace.addResourceDependency(workGroup);
  }
}
