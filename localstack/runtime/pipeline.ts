import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { ENV as INGEST_ENV } from '../../lambdas/ingest/config';
import { POWERTOOLS_ENV } from '../../lambdas/shared/metric-names';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../../lambdas/sink/config';
import { type EnvironmentConfig, environmentConfig } from '../../lib/config/environments';
import { bucketName, glueDatabaseName } from '../../lib/config/lake';
import { sinkGroupPrefix } from '../../lib/config/topics';
import { DATASETS, topicOf } from '../../schemas';
import { assertPortFree, freePort } from '../services/process';
import { type Supervised, Supervision, supervise } from '../services/supervisor';
import { localSettings } from '../settings';
import { LATENCY_BUCKET_MS, LatencyHistogram } from '../tools/lake/latency';
import { listObjects } from '../tools/lake/objects';
import { PlatformMetrics } from './api/metrics';
import { type ApiProcess, startApiProcess } from './api/process';
import { consumerLag } from './event-source-mapping/event-source-mapping';
import type { SinkProcessMessage } from './event-source-mapping/main';
import { type SinkProcess, startSinkProcess } from './event-source-mapping/sink-process';

/**
 * The runtime half of the local platform: the real ingest handler behind the local API and the real sink
 * handler behind the local event source mapping, each in processes of their own (as on Lambda: the sink's
 * CPU-bound Parquet encoding never delays the API's Kafka acknowledgements, and either can die and be
 * restarted by the supervisor without the other noticing). The services (broker, emulator)
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
  /** Shared with the services so one summary counts every restart; default: the pipeline's own. */
  readonly supervision?: Supervision;
  /**
   * Where the API and event source mapping processes write their output (`api.log`, `esm-<topic>.log`);
   * default: the terminal.
   */
  readonly logDir?: string;
  /** Every report of the event source mapping processes (invocations, commits), e.g. to time a recovery. */
  readonly onSinkMessage?: (message: SinkProcessMessage) => void;
}

export interface Pipeline {
  /** The local API (its own process, restarted when it dies, always on this URL). */
  readonly api: { readonly url: string; readonly port: number; pid(): number | undefined };
  readonly metrics: PlatformMetrics;
  /** Restarts of the API and event source mapping processes (and of Kafka nodes sharing it). */
  readonly supervision: Supervision;
  readonly topics: readonly string[];
  readonly rawBucket: string;
  readonly quarantineBucket: string;
  readonly groupPrefix: string;
  /** Records in the raw topics not yet committed by the sink consumer groups. */
  lag(): Promise<number>;
  /** Accept-to-Parquet latency of every record the sink has written (lake/latency.ts). */
  readonly latency: LatencyHistogram;
  /**
   * The event source mapping processes (the pollers of every topic) running now; undefined after
   * stopSink(). A process that dies is restarted by the supervisor.
   */
  readonly sink: readonly SinkProcess[] | undefined;
  /** The pollers of one topic running now, with their supervised names (one being restarted is absent). */
  pollersOf(topic: string): readonly { readonly name: string; readonly process: SinkProcess }[];
  /**
   * Stops the event source mapping processes for good (no restart): 'stop' lets the invocation in flight
   * finish and commit, 'kill' (SIGKILL) ends it mid-batch like a crash.
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
  setDefault(POWERTOOLS_ENV.logLevel, 'WARN');
  const supervision = options.supervision ?? new Supervision();
  const metrics = new PlatformMetrics();
  supervision.onRestart((event) => {
    if (!event.error) metrics.processRestarts.inc({ process: event.process });
  });

  // A port chosen once: a restarted API comes back where its clients already send.
  const requestedPort = options.apiPort ?? localSettings().apiPort;
  const apiConfig = {
    host: options.apiHost ?? '127.0.0.1',
    port: requestedPort === 0 ? await freePort() : requestedPort,
    timeoutMs: LOCAL.ingest.timeoutSeconds * 1000,
    docsAssetsPath: DOCS_ASSETS_PATH,
  };
  await assertPortFree(apiConfig.port, 'local API');
  const api = await supervise(
    'local API',
    () =>
      startApiProcess(apiConfig, {
        env: process.env,
        metrics,
        logFile: options.logDir && join(options.logDir, 'api.log'),
        onRecords: (dataset, produced, rejected) => {
          metrics.recordsProduced.inc({ dataset }, produced);
          metrics.recordsRejected.inc({ dataset }, rejected);
        },
      }),
    supervision,
  );
  const apiUrl = (api.current() as ApiProcess).url;

  const topics = DATASETS.map(topicOf);
  const brokers = (options.services.KAFKA_BROKERS ?? '').split(',');
  const groupPrefix = options.groupPrefix ?? sinkGroupPrefix(LOCAL);
  const latency = new LatencyHistogram();
  // As on AWS, each topic has its own event source mapping, and each mapping several pollers: consumers of
  // one group, each a process of its own here. A poller that dies leaves the group once its session times
  // out, and the survivors take over its partitions while the supervisor restarts it.
  const pollers = topics.flatMap((topic) =>
    Array.from({ length: sink.maxPollers }, (_, i) => ({
      topic,
      name: `event source mapping ${topic} #${i + 1}`,
      log: `esm-${topic}-${i + 1}.log`,
    })),
  );
  const startPoller = ({ topic, name, log }: (typeof pollers)[number]) =>
    supervise(
      name,
      () =>
        startSinkProcess(
          { brokers, topics: [topic], groupPrefix, sink },
          {
            logFile: options.logDir && join(options.logDir, log),
            onMessage: (message) => {
              options.onSinkMessage?.(message);
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
        ),
      supervision,
    );
  const startSinks = () => Promise.all(pollers.map(startPoller));
  // In the order of `pollers`.
  let sinks: Supervised<SinkProcess>[] | undefined = await startSinks();

  // Gauges measured at scrape time: consumer lag (from the broker) and objects per lake bucket.
  const admin = new Kafka({ clientId: 'local-metrics', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // A mapping that starts at LATEST owes nothing of what was in its topics before it joined: where it has
  // committed nothing yet, its lag counts from the end offsets seen once it joined, not from the log start.
  const startOffsets =
    sink.startingPosition === 'LATEST'
      ? new Map(
          await Promise.all(
            topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const),
          ),
        )
      : undefined;
  const lagOf = () => consumerLag(admin, groupPrefix, topics, startOffsets);
  metrics.addProbe(async () => {
    for (const { topic, partition, lag } of await lagOf()) {
      metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
    }
  });
  const s3 = new S3Client({});
  metrics.addProbe(async () => {
    metrics.lakeObjects.set({ zone: 'raw' }, (await listObjects(s3, rawBucket)).length);
    metrics.lakeObjects.set({ zone: 'quarantine' }, (await listObjects(s3, quarantineBucket)).length);
  });

  return {
    api: { url: apiUrl, port: apiConfig.port, pid: () => api.current()?.pid },
    metrics,
    supervision,
    topics,
    rawBucket,
    quarantineBucket,
    groupPrefix,
    latency,
    lag: async () => (await lagOf()).reduce((total, p) => total + p.lag, 0),
    get sink() {
      return sinks?.flatMap((s) => s.current() ?? []);
    },
    pollersOf: (topic) =>
      pollers.flatMap(({ topic: t, name }, i) => {
        const running = t === topic ? sinks?.[i]?.current() : undefined;
        return running ? [{ name, process: running }] : [];
      }),
    async stopSink(how = 'stop') {
      await Promise.all((sinks ?? []).map((s) => s.stop((p) => (how === 'kill' ? p.kill() : p.stop()))));
      sinks = undefined;
    },
    async startSink() {
      sinks ??= await startSinks();
    },
    async stop() {
      await Promise.allSettled([api.stop(), ...(sinks ?? []).map((s) => s.stop()), admin.disconnect()]);
      sinks = undefined;
      s3.destroy();
    },
  };
}
