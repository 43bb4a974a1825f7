import * as athena from '@grafana/grafana-foundation-sdk/athena';
import * as cloudwatch from '@grafana/grafana-foundation-sdk/cloudwatch';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  TextBoxVariableBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  INGEST_METRICS,
  METRIC_SERVICES,
  METRICS_NAMESPACE,
  SINK_METRICS,
  SPARK_METRICS,
  STREAMING_METRICS,
} from '../../lambdas/shared/metric-names';

/**
 * The Grafana dashboards of README.md#observability as code (grafana-foundation-sdk), every metric name taken from
 * lambdas/shared/metric-names.ts. The CDK provisions them into Managed Grafana (lib/constructs/grafana.ts);
 * `npx tsx lib/dashboards/write.ts` writes them to dashboards/ for the compose profile's Grafana.
 */

export const OVERVIEW_UID = 'lakehouse-overview';

/** Fixed panel ids, so alarms can link `/d/<uid>?viewPanel=<id>` (see panelLink). */
export const OVERVIEW_PANELS = {
  apiRequests: 1,
  apiLatency: 2,
  consumerLag: 3,
  acceptToParquet: 4,
  lambdaIngest: 5,
  lambdaSink: 6,
  apiRecords: 7,
  sinkRecords: 8,
  sparkFailures: 9,
  streamingWindows: 10,
  streamingLatestWindows: 11,
} as const;
export type OverviewPanel = keyof typeof OVERVIEW_PANELS;

/** Names of one environment's resources, the defaults of the dashboard's variables. */
export interface DashboardTarget {
  readonly prefix: string;
  readonly ingestFunction: string;
  readonly sinkFunction: string;
}

/** Path (below the Grafana URL) that opens one panel of the overview. */
export function panelLink(panel: OverviewPanel): string {
  return `/d/${OVERVIEW_UID}/?viewPanel=${OVERVIEW_PANELS[panel]}`;
}

/** A reference to a dashboard variable, `${name}`. */
const variable = (name: string) => `\${${name}}`;
const DATASOURCE = { type: 'cloudwatch', uid: variable('datasource') };

interface Series {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: string;
  readonly label: string;
}

const refIds = 'ABCDEFGHIJ';

function panel(id: number, title: string, unit: string, series: readonly Series[]): TimeseriesBuilder {
  return new TimeseriesBuilder()
    .id(id)
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .targets(
      series.map((s, i) =>
        new cloudwatch.MetricsQueryBuilder()
          .refId(refIds[i] as string)
          .datasource(DATASOURCE)
          .queryMode(cloudwatch.QueryMode.Metrics)
          .metricQueryType(cloudwatch.MetricQueryType.Search)
          .metricEditorMode(cloudwatch.MetricEditorMode.Builder)
          .region('default')
          .namespace(s.namespace)
          .metricName(s.metricName)
          .dimensions(s.dimensions)
          .statistic(s.statistic)
          .matchExact(true)
          .period('')
          .label(s.label),
      ),
    );
}

const own = (service: string | undefined, metricName: string, statistic: string, label: string): Series => ({
  namespace: METRICS_NAMESPACE,
  metricName,
  dimensions: service ? { service } : {},
  statistic,
  label,
});
const api = (metricName: string, statistic: string, label: string): Series => ({
  namespace: 'AWS/ApiGateway',
  metricName,
  dimensions: { ApiName: `${variable('prefix')}-ingest` },
  statistic,
  label,
});
const lambda = (fn: string, metricName: string, statistic: string, label: string): Series => ({
  namespace: 'AWS/Lambda',
  metricName,
  dimensions: { FunctionName: fn },
  statistic,
  label,
});
const lambdaPanel = (id: number, name: string, fn: string) =>
  panel(id, `Lambda ${name}`, 'short', [
    lambda(fn, 'Invocations', 'Sum', 'invocations'),
    lambda(fn, 'Errors', 'Sum', 'errors'),
    lambda(fn, 'Throttles', 'Sum', 'throttles'),
    lambda(fn, 'Duration', 'p99', 'duration p99 (ms)'),
  ]);

/**
 * The gold windows table (glue-scripts/lakehouse_spark/windows.py: minute_windows) through the Athena data
 * source (lib/constructs/grafana-provisioning.ts): count and p95 per dataset and group, minute by minute.
 */
function windowTablePanel(id: number): TimeseriesBuilder {
  const source = { type: 'grafana-athena-datasource', uid: 'athena' };
  const query = new athena.DataqueryBuilder()
    .refId('A')
    .datasource(source)
    .format(athena.FormatOptions.TimeSeries)
    .rawSQL(
      "SELECT window_start AS time, concat(dataset, ' ', group_key) AS metric, record_count, p95 " +
        'FROM minute_windows WHERE $__timeFilter(window_start) ORDER BY 1',
    );
  return new TimeseriesBuilder()
    .id(id)
    .title('Streaming windows: records and p95 per minute and group (gold minute_windows)')
    .datasource(source)
    .unit('short')
    .targets([query]);
}

const textbox = (name: string, label: string, value: string) =>
  new TextBoxVariableBuilder(name).label(label).defaultValue(value).current({ text: value, value });

/** API rate/latency/errors, Kafka lag, Lambdas, sink files/rows, Spark jobs (README.md#observability). */
export function overviewDashboard(target: DashboardTarget): Dashboard {
  const { ingest, sink } = METRIC_SERVICES;
  const p = OVERVIEW_PANELS;
  const grid = (builder: TimeseriesBuilder, index: number) =>
    builder.gridPos({ x: (index % 2) * 12, y: Math.floor(index / 2) * 8, w: 12, h: 8 });
  const panels = [
    panel(p.apiRequests, 'API requests and errors', 'short', [
      api('Count', 'Sum', 'requests'),
      api('4XXError', 'Sum', '4xx'),
      api('5XXError', 'Sum', '5xx'),
    ]),
    panel(p.apiLatency, 'API latency p99', 'ms', [
      api('Latency', 'p99', 'latency p99'),
      api('IntegrationLatency', 'p99', 'integration latency p99'),
    ]),
    panel(p.consumerLag, 'Kafka consumer lag (sink, SLO < 10,000)', 'short', [
      lambda(variable('sink_function'), 'OffsetLag', 'Maximum', 'offset lag'),
    ]),
    panel(p.acceptToParquet, 'Accept to Parquet latency (SLO 5 s p99)', 'ms', [
      own(sink, SINK_METRICS.acceptToWriteLatencyMax, 'p99', 'p99'),
      own(sink, SINK_METRICS.acceptToWriteLatencyAvg, 'Average', 'average'),
    ]),
    lambdaPanel(p.lambdaIngest, 'ingest', variable('ingest_function')),
    lambdaPanel(p.lambdaSink, 'sink', variable('sink_function')),
    panel(p.apiRecords, 'Records accepted / rejected at the API', 'short', [
      own(ingest, INGEST_METRICS.recordsAccepted, 'Sum', 'accepted'),
      own(ingest, INGEST_METRICS.recordsRejected, 'Sum', 'rejected'),
      own(ingest, INGEST_METRICS.kafkaUnavailable, 'Sum', 'Kafka unavailable (503)'),
    ]),
    panel(p.sinkRecords, 'Sink rows written / quarantined, files (SLO rejected < 0.1%)', 'short', [
      own(sink, SINK_METRICS.recordsWritten, 'Sum', 'rows written'),
      own(sink, SINK_METRICS.recordsQuarantined, 'Sum', 'rows quarantined'),
      own(sink, SINK_METRICS.filesWritten, 'Sum', 'files'),
      own(sink, SINK_METRICS.batchFailures, 'Sum', 'failed batches'),
    ]),
    panel(p.sparkFailures, 'Spark jobs: failed runs', 'short', [
      own(undefined, SPARK_METRICS.jobFailures, 'Sum', 'failed runs'),
    ]),
    panel(p.streamingWindows, 'Streaming windows: freshness p99 (s), lag, late records', 'short', [
      own(undefined, STREAMING_METRICS.freshnessP99, 'Maximum', 'event → window row p99 (s)'),
      own(undefined, STREAMING_METRICS.offsetsBehind, 'Maximum', 'messages behind the topics'),
      own(undefined, STREAMING_METRICS.late, 'Sum', 'late records (quarantined)'),
    ]),
    windowTablePanel(p.streamingLatestWindows),
  ];
  const builder = new DashboardBuilder('Lakehouse overview')
    .uid(OVERVIEW_UID)
    .description(
      'API rate/latency/errors, Kafka lag, Lambdas, sink files/rows, Spark jobs (README.md#observability). Generated by lib/dashboards/overview.ts; do not edit.',
    )
    .tags(['lakehouse'])
    .timezone('utc')
    .refresh('1m')
    .time({ from: 'now-3h', to: 'now' })
    .readonly()
    .withVariable(
      new DatasourceVariableBuilder('datasource')
        .label('CloudWatch')
        .type('cloudwatch')
        .current({ text: 'CloudWatch', value: 'cloudwatch' }),
    )
    .withVariable(textbox('prefix', 'Environment prefix', target.prefix))
    .withVariable(textbox('ingest_function', 'Ingest function', target.ingestFunction))
    .withVariable(textbox('sink_function', 'Sink function', target.sinkFunction));
  panels.forEach((p, i) => {
    builder.withPanel(grid(p, i));
  });
  return builder.build();
}

/** Every dashboard of the platform as plain JSON models, by file name (dashboards/<name>.json). */
export function dashboards(target: DashboardTarget): Record<string, Record<string, unknown>> {
  // The SDK's objects carry marker methods; the JSON round trip leaves the model Grafana reads.
  const plain = (d: Dashboard) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  return { 'lakehouse-overview': plain(overviewDashboard(target)) };
}
