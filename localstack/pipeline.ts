import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { Kafka, logLevel } from 'kafkajs';
import { ENV as INGEST_ENV } from '../lambdas/ingest/config';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../lambdas/sink/config';
import { type EnvironmentConfig, environmentConfig } from '../lib/config/environments';
import { bucketName, glueDatabaseName } from '../lib/config/lake';
import { DATASETS, topicOf } from '../schemas';
import { batchRouteOf, DOCS_ROUTE, HEALTH_ROUTE, OPENAPI_ROUTE, REDOC_ROUTE } from '../schemas/openapi';
import { PlatformMetrics } from './api/metrics';
import { type LocalApi, type ProxyHandler, startLocalApi } from './api/server';
import { consumerLag } from './esm/event-source-mapping';
import { type SinkProcess, startSinkProcess } from './esm/sink-process';
import { LATENCY_BUCKET_MS, LatencyHistogram } from './lake/latency';
import { listObjects } from './lake/objects';

/**
 * The runtime half of the local platform: the real ingest handler behind the local API (in this process)
 * and the real sink handler behind the local event source mapping (its own process, as on Lambda, so the
 * sink's CPU-bound Parquet encoding never delays the API's Kafka acknowledgements). The services (broker, emulator)
 * come from ./services.ts; this wires the handlers to them through the same environment variables the
 * CDK sets on the Lambdas.
 */

export interface PipelineOptions {
  /** KAFKA_BROKERS, AWS_ENDPOINT_URL, AWS_* credentials and region (Services.env). */
  readonly services: Readonly<Record<string, string>>;
  readonly apiHost?: string;
  /** 0 picks a free port. Default LAKEHOUSE_API_PORT or 8000. */
  readonly apiPort?: number;
  /** Buckets and catalog; default: the local environment's. Tests pass unique names. */
  readonly rawBucket?: string;
  readonly quarantineBucket?: string;
  readonly glueDatabase?: string;
  /** Consumer groups are `<groupPrefix>-<topic>`. Default `<prefix>-sink`. */
  readonly groupPrefix?: string;
  /** Overrides of the local sink settings (e.g. a shorter batching window in a test). */
  readonly sink?: Partial<EnvironmentConfig['sink']>;
}

export interface Pipeline {
  readonly api: LocalApi;
  readonly metrics: PlatformMetrics;
  readonly topics: readonly string[];
  readonly rawBucket: string;
  readonly quarantineBucket: string;
  readonly groupPrefix: string;
  /** Records in the raw topics not yet committed by the sink consumer groups. */
  lag(): Promise<number>;
  /** Accept-to-Parquet latency of every record the sink has written (lake/latency.ts). */
  readonly latency: LatencyHistogram;
  /** The event source mapping processes (one per topic), while they run. */
  readonly sink: readonly SinkProcess[] | undefined;
  /**
   * Stops the event source mapping processes: 'stop' lets the invocation in flight finish and commit,
   * 'kill' (SIGKILL) ends it mid-batch like a crash.
   */
  stopSink(how?: 'stop' | 'kill'): Promise<void>;
  /** Starts the event source mapping processes again; it resumes at the committed offsets. */
  startSink(): Promise<void>;
  stop(): Promise<void>;
}

const LOCAL = environmentConfig('local');
/** Where the local API serves the /docs and /redoc assets from node_modules (offline). */
const DOCS_ASSETS_PATH = '/docs-assets/';

/** Sets a variable unless the user already did (so POWERTOOLS_LOG_LEVEL=DEBUG npm start works). */
function setDefault(name: string, value: string): void {
  if (process.env[name] === undefined) process.env[name] = value;
}

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const rawBucket = options.rawBucket ?? bucketName(LOCAL, 'raw');
  const quarantineBucket = options.quarantineBucket ?? bucketName(LOCAL, 'quarantine');
  const sink = { ...LOCAL.sink, ...options.sink };

  // The handlers read their settings from the environment on first use, exactly as on Lambda.
  Object.assign(process.env, options.services, {
    [RAW_BUCKET]: rawBucket,
    [QUARANTINE_BUCKET]: quarantineBucket,
    [GLUE_DATABASE]: options.glueDatabase ?? glueDatabaseName(LOCAL),
    [INGEST_ENV.maxBodyBytes]: String(LOCAL.ingest.maxBodyBytes),
    [INGEST_ENV.maxBatchRecords]: String(LOCAL.ingest.maxBatchRecords),
    [INGEST_ENV.docsAssetsUrl]: DOCS_ASSETS_PATH,
  });
  // /metrics replaces CloudWatch's embedded metrics locally; warnings and errors still reach the terminal.
  setDefault('POWERTOOLS_METRICS_DISABLED', 'true');
  setDefault(INGEST_ENV.logLevel, 'WARN');
  const ingestModule = await import('../lambdas/ingest/handler');
  const ingest = ingestModule.handler as ProxyHandler;

  const metrics = new PlatformMetrics();
  const datasetByRoute = new Map<string, string>();
  for (const d of DATASETS) {
    datasetByRoute.set(d.route, d.name);
    datasetByRoute.set(batchRouteOf(d), d.name);
  }
  const known = new Set([
    '/',
    HEALTH_ROUTE,
    OPENAPI_ROUTE,
    DOCS_ROUTE,
    REDOC_ROUTE,
    ...datasetByRoute.keys(),
  ]);
  const normalise = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

  const api = await startLocalApi({
    handler: ingest,
    metrics,
    host: options.apiHost ?? '127.0.0.1',
    port: options.apiPort ?? Number(process.env.LAKEHOUSE_API_PORT ?? 8000),
    timeoutMs: LOCAL.ingest.timeoutSeconds * 1000,
    docsAssetsPath: DOCS_ASSETS_PATH,
    routeLabel: (path) => (known.has(normalise(path)) ? normalise(path) : 'unmatched'),
    onResult: (event, result) =>
      countRecords(metrics, datasetByRoute.get(normalise(event.path)), event, result),
  });

  const topics = DATASETS.map(topicOf);
  const brokers = (options.services.KAFKA_BROKERS ?? '').split(',');
  const groupPrefix = options.groupPrefix ?? `${LOCAL.prefix}-sink`;
  const latency = new LatencyHistogram();
  // One process per topic, as on AWS each topic has its own event source mapping and its pollers run
  // apart: the two datasets' sinks encode Parquet on separate cores.
  const startSinkFor = (topic: string) =>
    startSinkProcess(
      { brokers, topics: [topic], groupPrefix, sink },
      {
        onMessage: (message) => {
          if (message.type === 'invocation') {
            metrics.sinkInvocations.inc({ topic: message.topic, outcome: message.outcome });
            metrics.sinkDuration.observe({ topic: message.topic }, message.durationMs / 1000);
            metrics.sinkBatchSize.observe({ topic: message.topic }, message.records);
            latency.merge(message.latency);
            for (const [bucket, n] of Object.entries(message.latency.buckets)) {
              const seconds = ((Number(bucket) + 0.5) * LATENCY_BUCKET_MS) / 1000;
              for (let i = 0; i < n; i += 1) metrics.acceptToParquet.observe(seconds);
            }
          } else if (message.type === 'commit') {
            metrics.sinkRecords.inc({ topic: message.topic }, message.records);
          }
        },
      },
    );
  const startSinks = () => Promise.all(topics.map(startSinkFor));
  let sinkProcesses: SinkProcess[] | undefined = await startSinks();

  // Gauges measured at scrape time: consumer lag (from the broker) and objects per lake bucket.
  const admin = new Kafka({ clientId: 'local-metrics', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  metrics.addProbe(async () => {
    for (const { topic, partition, lag } of await consumerLag(admin, groupPrefix, topics)) {
      metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
    }
  });
  const s3 = new S3Client({});
  metrics.addProbe(async () => {
    metrics.lakeObjects.set({ zone: 'raw' }, (await listObjects(s3, rawBucket)).length);
    metrics.lakeObjects.set({ zone: 'quarantine' }, (await listObjects(s3, quarantineBucket)).length);
  });

  return {
    api,
    metrics,
    topics,
    rawBucket,
    quarantineBucket,
    groupPrefix,
    latency,
    lag: async () => (await consumerLag(admin, groupPrefix, topics)).reduce((total, p) => total + p.lag, 0),
    get sink() {
      return sinkProcesses;
    },
    async stopSink(how = 'stop') {
      await Promise.all((sinkProcesses ?? []).map((p) => (how === 'kill' ? p.kill() : p.stop())));
      sinkProcesses = undefined;
    },
    async startSink() {
      sinkProcesses ??= await startSinks();
    },
    async stop() {
      await api.close();
      await Promise.allSettled([
        ingestModule.closeHandler(),
        ...(sinkProcesses ?? []).map((p) => p.stop()),
        admin.disconnect(),
      ]);
      sinkProcesses = undefined;
      s3.destroy();
    },
  };
}

/** Counts accepted and rejected records from the API's answer (single: 200/422; batch: its tallies). */
function countRecords(
  metrics: PlatformMetrics,
  dataset: string | undefined,
  event: APIGatewayProxyEvent,
  result: APIGatewayProxyResult,
): void {
  if (!dataset || event.httpMethod !== 'POST') return;
  if (event.path.replace(/\/$/, '').endsWith('/batch')) {
    if (![200, 207, 422].includes(result.statusCode)) return;
    const body = JSON.parse(result.body) as { accepted?: number; rejected?: number; results?: unknown[] };
    metrics.recordsProduced.inc({ dataset }, body.accepted ?? 0);
    metrics.recordsRejected.inc({ dataset }, body.rejected ?? body.results?.length ?? 0);
  } else if (result.statusCode === 200) {
    metrics.recordsProduced.inc({ dataset });
  } else if (result.statusCode === 422) {
    metrics.recordsRejected.inc({ dataset });
  }
}
