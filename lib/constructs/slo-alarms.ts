import {
  type aws_apigateway as apigw,
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwActions,
  Duration,
  type aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { METRIC_SERVICES, METRICS_NAMESPACE, SINK_METRICS } from '../../lambdas/shared/metric-names';
import type { AlarmSettings } from '../config/environments';
import type { OverviewPanel } from '../dashboards/overview';

/** The SLOs of README.md#observability; each has one alarm and one runbook, runbooks/<id>.md. */
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

/** The metric (or expression) each SLO is measured by, plus the sink's counts the dashboard shows. */
export interface SloIndicators {
  readonly latency: cw.IMetric;
  readonly lag: cw.IMetric;
  readonly written: cw.IMetric;
  readonly quarantined: cw.IMetric;
  readonly filesWritten: cw.IMetric;
  readonly rejectedRatio: cw.IMetric;
  readonly api5xxRatio: cw.IMetric;
  readonly failedRuns: cw.IMetric;
}

/** The indicators of the platform's SLOs, from the sink's metrics, the API's and the failed Spark runs. */
export function sloIndicators(
  api: apigw.RestApi,
  sinkFunctionName: string,
  failedRuns: cw.IMetric,
): SloIndicators {
  const fiveMinutes = Duration.minutes(5);
  const quarantined = sinkMetric(SINK_METRICS.recordsQuarantined, 'Sum', Duration.hours(1));
  const written = sinkMetric(SINK_METRICS.recordsWritten, 'Sum', Duration.hours(1));
  return {
    latency: sinkMetric(SINK_METRICS.acceptToWriteLatencyMax, 'p99', fiveMinutes),
    lag: new cw.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'OffsetLag',
      dimensionsMap: { FunctionName: sinkFunctionName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    }),
    written,
    quarantined,
    filesWritten: sinkMetric(SINK_METRICS.filesWritten, 'Sum', fiveMinutes),
    rejectedRatio: new cw.MathExpression({
      expression: 'IF(q + w > 0, q / (q + w), 0)',
      usingMetrics: { q: quarantined, w: written },
      period: Duration.hours(1),
      label: 'Rejected ratio',
    }),
    api5xxRatio: new cw.MathExpression({
      expression: 'IF(n > 0, e / n, 0)',
      usingMetrics: {
        e: api.metricServerError({ statistic: 'Sum', period: fiveMinutes }),
        n: api.metricCount({ statistic: 'Sum', period: fiveMinutes }),
      },
      period: fiveMinutes,
      label: '5xx ratio',
    }),
    failedRuns,
  };
}

export interface SloAlarmsProps {
  /** Alarms are named `<prefix>-slo-<id>`. */
  readonly prefix: string;
  readonly objectives: AlarmSettings;
  readonly indicators: SloIndicators;
  /** Where alarms and their recoveries are published. */
  readonly topic: sns.ITopic;
  /** The link to an overview panel that an alarm's description carries. */
  readonly panelUrl: (panel: OverviewPanel) => string;
  /**
   * Alarms on ratios (metric math). Off only where the AWS emulator refuses metric math (hybrid): those
   * SLOs then have no alarm.
   * @default true
   */
  readonly metricMath?: boolean;
}

/** One alarm per SLO, each describing the objective, its first steps, its dashboard panel and runbook. */
export class SloAlarms extends Construct {
  readonly alarms: Partial<Record<SloId, cw.Alarm>>;

  constructor(scope: Construct, id: string, props: SloAlarmsProps) {
    super(scope, id);
    const alarm = (
      slo: SloId,
      metric: cw.IMetric,
      threshold: number,
      evaluationPeriods: number,
      comparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) => {
      if (metric instanceof cw.MathExpression && props.metricMath === false) return undefined;
      const created = new cw.Alarm(this, `Slo-${slo}`, {
        alarmName: `${props.prefix}-slo-${slo}`,
        alarmDescription: [
          `${SLOS[slo]}.`,
          `First steps: ${ALARM_GUIDE[slo].firstSteps}`,
          `Dashboard: ${props.panelUrl(ALARM_GUIDE[slo].panel)}`,
          `Runbook: ${runbookPath(slo)}`,
        ].join('\n'),
        metric,
        threshold,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        comparisonOperator,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new cwActions.SnsAction(props.topic));
      created.addOkAction(new cwActions.SnsAction(props.topic));
      return created;
    };
    const { objectives: t, indicators: i } = props;
    const alarms: Record<SloId, cw.Alarm | undefined> = {
      'ingest-latency': alarm('ingest-latency', i.latency, t.ingestLatencyP99Ms, 3),
      'consumer-lag': alarm('consumer-lag', i.lag, t.consumerLagMessages, 5),
      'batch-jobs': alarm(
        'batch-jobs',
        i.failedRuns,
        1,
        1,
        cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ),
      'data-quality': alarm('data-quality', i.rejectedRatio, t.rejectedRatio, 1),
      'api-availability': alarm('api-availability', i.api5xxRatio, t.api5xxRatio, 3),
    };
    this.alarms = Object.fromEntries(Object.entries(alarms).filter(([, a]) => a));
  }
}
