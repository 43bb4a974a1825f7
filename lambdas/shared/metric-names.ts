/**
 * The one list of the metrics this platform emits: the handlers' Powertools metrics, the metric the CDK's
 * log metric filter derives from failed Spark runs, and the AWS service metrics the alarms and dashboards
 * read. Dashboards (lib/dashboards/), alarms (lib/constructs/observability.ts) and tests take names from
 * here; it imports nothing so that handlers can use it too.
 */

/** CloudWatch namespace of the platform's own metrics (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'Lakehouse';

/** Value of the `service` dimension Powertools adds (POWERTOOLS_SERVICE_NAME of each Lambda). */
export const METRIC_SERVICES = { ingest: 'ingest', sink: 'sink' } as const;
export type MetricService = (typeof METRIC_SERVICES)[keyof typeof METRIC_SERVICES];

/** Powertools' own environment variables, read by the handlers' logger and metrics. */
export const POWERTOOLS_ENV = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

/** The Powertools environment of a function: what CDK sets on each Lambda. */
export function powertoolsEnvironment(service: MetricService, logLevel = 'INFO'): Record<string, string> {
  return {
    [POWERTOOLS_ENV.serviceName]: service,
    [POWERTOOLS_ENV.metricsNamespace]: METRICS_NAMESPACE,
    [POWERTOOLS_ENV.logLevel]: logLevel,
  };
}

/** lambdas/ingest/handler.ts, with dimension `dataset` besides `service`. */
export const INGEST_METRICS = {
  recordsAccepted: 'RecordsAccepted',
  recordsRejected: 'RecordsRejected',
  produceLatency: 'ProduceLatency',
  kafkaUnavailable: 'KafkaUnavailable',
} as const;

/** lambdas/sink/handler.ts. */
export const SINK_METRICS = {
  recordsWritten: 'RecordsWritten',
  recordsQuarantined: 'RecordsQuarantined',
  filesWritten: 'FilesWritten',
  bytesWritten: 'BytesWritten',
  catalogFailures: 'CatalogFailures',
  acceptToWriteLatencyMax: 'AcceptToWriteLatencyMax',
  acceptToWriteLatencyAvg: 'AcceptToWriteLatencyAvg',
  batchFailures: 'BatchFailures',
} as const;

/** Derived by a CloudWatch Logs metric filter from Glue / EMR Serverless failure events (no `service`). */
export const SPARK_METRICS = { jobFailures: 'SparkJobFailures' } as const;

/** Published by the streaming windows job (glue-scripts/streaming_windows.py, --metric_names; no `service`). */
export const STREAMING_METRICS = {
  offsetsBehind: 'StreamingOffsetsBehindLatest',
  freshnessP99: 'StreamingWindowFreshnessP99Seconds',
  late: 'StreamingLateRecords',
} as const;

/** The platform's own metrics, per `service` dimension value (undefined: no service dimension). */
export const PLATFORM_METRICS: ReadonlyArray<{
  readonly service?: MetricService;
  readonly names: readonly string[];
}> = [
  { service: METRIC_SERVICES.ingest, names: Object.values(INGEST_METRICS) },
  { service: METRIC_SERVICES.sink, names: Object.values(SINK_METRICS) },
  { names: Object.values(SPARK_METRICS) },
  { names: Object.values(STREAMING_METRICS) },
];

/** AWS service metrics the dashboards and alarms read (emitted by API Gateway and Lambda themselves). */
export const AWS_METRICS = {
  'AWS/ApiGateway': ['Count', '4XXError', '5XXError', 'Latency', 'IntegrationLatency'],
  'AWS/Lambda': ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'OffsetLag'],
} as const;

/** Whether `namespace`/`metricName` is a metric the platform (or AWS on its behalf) emits. */
export function isEmittedMetric(namespace: string, metricName: string): boolean {
  if (namespace === METRICS_NAMESPACE) return PLATFORM_METRICS.some((m) => m.names.includes(metricName));
  const aws = AWS_METRICS[namespace as keyof typeof AWS_METRICS] as readonly string[] | undefined;
  return aws?.includes(metricName) ?? false;
}
