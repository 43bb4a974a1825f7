import { loadavg } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { environmentConfig } from '../../lib/config/environments';
import { bucketName, QUARANTINE_CURATED_PREFIX, QUARANTINE_SINK_PREFIX } from '../../lib/config/lake';
import { DATASETS } from '../../schemas';
import { type Pipeline, startPipeline } from '../runtime/pipeline';
import { DEFAULT_DIR, type Services, startServices } from '../services/cli';
import { waitFor } from '../services/process';
import { type S3FaultProxy, startS3FaultProxy } from '../services/s3-fault-proxy';
import { Supervision } from '../services/supervisor';
import { type SendTally, sendRecords } from '../tools/generator/send';
import { readDeltaColumn } from '../tools/lake/inventory';
import { type LatencySnapshot, latencyPercentile } from '../tools/lake/latency';
import { getBytes, listObjects, readParquetRows } from '../tools/lake/objects';
import { runLocalSpark } from '../tools/spark/run';
import { type FaultResult, runSchedule, type Timeline } from './faults';
import type { Fault } from './schedule';

/**
 * One chaos run: a fresh platform (a KRaft cluster, the emulator behind an S3 fault proxy, the local API
 * and event source mappings under supervision), sustained load through the single and batch routes by
 * clients that retry 503s and connection errors, the fault schedule injected meanwhile, then validation of
 * every zone against what the API answered: nothing accepted may be lost, curated holds each record once,
 * nothing rejected is anywhere.
 */

export interface ChaosOptions {
  readonly records: number;
  /** Records offered per second. */
  readonly rate: number;
  readonly brokers: number;
  readonly schedule: readonly Fault[];
  readonly seed: number;
  /** S3 error share (503 SlowDown) for the whole load, outside the scheduled bursts. */
  readonly s3ErrorShare: number;
  /** Milliseconds the S3 fault proxy adds to every request. */
  readonly s3LatencyMs: number;
  /** Share of records sent one per request (the rest in batches of batchSize). */
  readonly singleShare: number;
  readonly batchSize: number;
  /** Concurrent client requests. */
  readonly clients: number;
  /** Share of invalid records: they must be answered 4xx and never reach the lake. */
  readonly invalidShare: number;
  /** Run raw_to_curated and check curated (the slow part). */
  readonly spark: boolean;
  /** Data and logs of the run (wiped first). */
  readonly dir?: string;
  /** Handler output to the terminal rather than `<dir>/logs/`. */
  readonly verbose?: boolean;
  readonly log: (line: string) => void;
  readonly onProgress?: (tally: SendTally) => void;
}

export interface ZoneCheck {
  /** Accepted ids found there. */
  readonly present: number;
  /** Accepted ids missing there. */
  readonly lost: number;
  /** Rows beyond the first of an id. */
  readonly duplicateRows: number;
  /** Rows of ids the API answered 4xx. */
  readonly rejectedFound: number;
}

export interface ChaosReport {
  readonly startedAt: string;
  readonly options: Omit<ChaosOptions, 'log' | 'onProgress' | 'schedule' | 'verbose' | 'dir'>;
  readonly loadAverage: readonly number[];
  readonly load: {
    readonly offered: number;
    readonly accepted: number;
    readonly rejected: number;
    /** Records whose request was answered 503 or not at all at least once, and then retried. */
    readonly retriedRecords: number;
    /** Records that never got an answer (the client gave up): neither accepted nor rejected. */
    readonly unanswered: number;
    readonly requests: number;
    readonly statuses: Readonly<Record<string, number>>;
    readonly seconds: number;
  };
  readonly faults: readonly FaultResult[];
  readonly restarts: Readonly<Record<string, number>>;
  readonly latency: {
    readonly p50Ms?: number;
    readonly p99Ms?: number;
    readonly maxMs?: number;
    readonly records: number;
  };
  readonly raw: ZoneCheck & {
    /** Duplicate raw rows at a coordinate already seen: a sink redelivery that was not overwritten. */
    readonly sameCoordinates: number;
    /** Duplicate raw rows at other offsets: a request retried after its first attempt reached Kafka. */
    readonly retriedProduces: number;
  };
  readonly sinkQuarantine: { readonly rows: number; readonly rejectedFound: number };
  readonly curated?: ZoneCheck & { readonly spark: string };
  /** Zero loss and zero curated duplicates, nothing rejected in the lake, every fault recovered. */
  readonly passed: boolean;
}

const LOCAL = environmentConfig('local');
const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms));

/** The platform a chaos run drives: services, the S3 fault proxy in front of the emulator, the pipeline. */
interface ChaosPlatform {
  readonly supervision: Supervision;
  readonly kafka: NonNullable<Services['kafka']>;
  readonly admin: Admin;
  readonly proxy: S3FaultProxy;
  readonly pipeline: Pipeline;
  /** Reads the emulator directly (the sinks write through the proxy). */
  readonly s3: S3Client;
  readonly direct: Services['env'];
  readonly dir: string;
  stop(): Promise<void>;
}

/** Load, faults and the validation of everything accepted (see the module comment). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = new Date().toISOString();
  const timeline: Timeline = { accepted: [], commits: [], restarts: [] };
  const platform = await startChaosPlatform(options, timeline);
  try {
    const { tally, faults, latency } = await loadWithFaults(platform, options, timeline);
    const validation = await validate(platform, options, tally);
    return {
      startedAt,
      options: {
        records: options.records,
        rate: options.rate,
        brokers: options.brokers,
        seed: options.seed,
        s3ErrorShare: options.s3ErrorShare,
        s3LatencyMs: options.s3LatencyMs,
        singleShare: options.singleShare,
        batchSize: options.batchSize,
        clients: options.clients,
        invalidShare: options.invalidShare,
        spark: options.spark,
      },
      loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
      load: {
        offered: tally.sent,
        accepted: tally.accepted,
        rejected: tally.rejected,
        retriedRecords: Object.values(tally.byDataset).reduce((n, d) => n + d.retriedIds.length, 0),
        unanswered: tally.failed,
        requests: tally.requests,
        statuses: tally.statuses,
        seconds: Math.round(tally.elapsedMs / 100) / 10,
      },
      faults,
      restarts: platform.supervision.restarts(),
      latency: latencyFigures(latency),
      ...validation,
      passed: passed(validation, tally, faults),
    };
  } finally {
    await platform.stop();
  }
}

async function startChaosPlatform(options: ChaosOptions, timeline: Timeline): Promise<ChaosPlatform> {
  const { log } = options;
  const supervision = new Supervision(log);
  supervision.onRestart((event) => {
    if (!event.error) timeline.restarts.push({ process: event.process, at: Date.now() });
  });
  const dir = options.dir ?? join(DEFAULT_DIR, 'chaos');
  const services = await startServices({
    dir,
    fresh: true,
    brokers: options.brokers,
    kafkaPort: 'free',
    awsPort: 'free',
    emulator: 'moto',
    supervision,
    log,
  });
  const direct = services.env;
  const proxy = await startS3FaultProxy({ target: direct.AWS_ENDPOINT_URL as string, seed: options.seed });
  const kafka = services.kafka;
  if (!kafka) throw new Error('chaos needs Kafka');
  const admin = new Kafka({ clientId: 'chaos', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  // The sinks write S3 through the proxy; the checks read the emulator directly.
  const pipeline = await startPipeline({
    services: { ...direct, AWS_ENDPOINT_URL_S3: proxy.url },
    apiPort: 0,
    supervision,
    logDir: options.verbose ? undefined : join(dir, 'logs'),
    onSinkMessage: (message) => {
      if (message.type === 'commit') timeline.commits.push({ topic: message.topic, at: Date.now() });
    },
  });
  const s3 = new S3Client({
    endpoint: direct.AWS_ENDPOINT_URL,
    region: direct.AWS_REGION,
    forcePathStyle: true,
  });
  await admin.connect();
  return {
    supervision,
    kafka,
    admin,
    proxy,
    pipeline,
    s3,
    direct,
    dir,
    async stop() {
      proxy.set({ errorShare: 0 });
      await pipeline.stop().catch(() => {});
      await admin.disconnect().catch(() => {});
      await services.stop();
      await proxy.close();
      s3.destroy();
    },
  };
}

/** The producers' load through the API while the schedule's faults strike; then the faults are lifted. */
async function loadWithFaults(platform: ChaosPlatform, options: ChaosOptions, timeline: Timeline) {
  const { pipeline, proxy, log } = { ...platform, log: options.log };
  await waitFor(async () => (await fetch(`${pipeline.api.url}/health`)).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: 'the API to report Kafka connected',
  });
  pipeline.latency.drain();
  proxy.set({ errorShare: options.s3ErrorShare, status: 503, latencyMs: options.s3LatencyMs });

  log(`load: ${options.records} records at ${options.rate}/s; ${options.schedule.length} faults scheduled`);
  const loadStartedAt = Date.now();
  let loadDone = false;
  const load = sendRecords({
    apiUrl: pipeline.api.url,
    rate: options.rate,
    count: options.records,
    route: 'mixed',
    singleShare: options.singleShare,
    batchSize: options.batchSize,
    concurrency: options.clients,
    invalidShare: options.invalidShare,
    duplicateShare: 0,
    seed: options.seed,
    runId: `chaos${options.seed}`,
    // A real client keeps retrying while the platform recovers; two minutes of retries at most.
    retries: 70,
    maxBackoffMs: 2_000,
    onAnswer: (status, at) => {
      if (status === '200' || status === '207') timeline.accepted.push(at);
    },
    onProgress: options.onProgress,
  }).finally(() => {
    loadDone = true;
  });
  const faults = await runSchedule(
    options.schedule,
    {
      kafka: platform.kafka,
      admin: platform.admin,
      topics: pipeline.topics,
      pipeline,
      proxy,
      baseS3ErrorShare: options.s3ErrorShare,
      supervision: platform.supervision,
      log,
    },
    timeline,
    loadStartedAt,
    () => loadDone,
  );
  const tally = await load;
  const latency = pipeline.latency.snapshot();
  proxy.set({ errorShare: 0, latencyMs: 0 });
  return { tally, faults, latency };
}

/** Once the sinks caught up: every accepted record in raw (and curated) exactly once, no rejected one. */
async function validate(platform: ChaosPlatform, options: ChaosOptions, tally: SendTally) {
  const { pipeline, s3, log } = { ...platform, log: options.log };
  log('validation: waiting until the sinks have consumed everything');
  await waitFor(async () => (await pipeline.lag()) === 0, {
    timeoutMs: 300_000,
    intervalMs: 500,
    what: 'consumer lag 0',
  });
  const accepted = new Set(Object.values(tally.byDataset).flatMap((d) => d.acceptedIds));
  const rejected = new Set(Object.values(tally.byDataset).flatMap((d) => d.rejectedIds));
  const raw = await checkRaw(s3, pipeline.rawBucket, accepted, rejected);
  const sinkQuarantine = await checkSinkQuarantine(s3, pipeline.quarantineBucket, rejected);
  let curated: ChaosReport['curated'];
  if (options.spark) {
    await pipeline.stopSink();
    log('validation: Spark raw_to_curated and curated_to_gold');
    const spark = await runLocalSpark(
      platform.direct,
      log,
      options.verbose ? undefined : join(platform.dir, 'logs', 'spark.log'),
    );
    curated = { ...(await checkCurated(s3, accepted, rejected)), spark };
  }
  return { raw, sinkQuarantine, curated };
}

function passed(
  { raw, sinkQuarantine, curated }: Awaited<ReturnType<typeof validate>>,
  tally: SendTally,
  faults: ChaosReport['faults'],
): boolean {
  return (
    raw.lost === 0 &&
    raw.rejectedFound === 0 &&
    sinkQuarantine.rejectedFound === 0 &&
    tally.failed === 0 &&
    faults.every((f) => f.recoveredAfterMs !== undefined) &&
    (!curated || (curated.lost === 0 && curated.duplicateRows === 0 && curated.rejectedFound === 0))
  );
}

function latencyFigures(snapshot: LatencySnapshot): ChaosReport['latency'] {
  return {
    p50Ms: round(latencyPercentile(snapshot, 50)),
    p99Ms: round(latencyPercentile(snapshot, 99)),
    maxMs: round(latencyPercentile(snapshot, 100)),
    records: snapshot.count,
  };
}

async function checkRaw(
  s3: S3Client,
  bucket: string,
  accepted: ReadonlySet<string>,
  rejected: ReadonlySet<string>,
): Promise<ChaosReport['raw']> {
  const seen = new Map<string, number>();
  const coordinates = new Set<string>();
  let sameCoordinates = 0;
  let rejectedFound = 0;
  for (const dataset of DATASETS) {
    for (const object of await listObjects(s3, bucket, `${dataset.name}/`)) {
      if (!object.key.endsWith('.parquet')) continue;
      const columns = [dataset.idField, '_kafka_topic', '_kafka_partition', '_kafka_offset'];
      for (const row of await readParquetRows(s3, bucket, object.key, columns)) {
        const id = String(row[dataset.idField]);
        const coordinate = `${row._kafka_topic}/${row._kafka_partition}/${row._kafka_offset}`;
        if (coordinates.has(coordinate)) sameCoordinates += 1;
        coordinates.add(coordinate);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (rejected.has(id)) rejectedFound += 1;
      }
    }
  }
  return {
    ...tally(seen, accepted, rejectedFound),
    sameCoordinates,
    retriedProduces: countDuplicates(seen) - sameCoordinates,
  };
}

async function checkSinkQuarantine(s3: S3Client, bucket: string, rejected: ReadonlySet<string>) {
  let rows = 0;
  let rejectedFound = 0;
  for (const object of await listObjects(s3, bucket, `${QUARANTINE_SINK_PREFIX}/`)) {
    const text = Buffer.from(await getBytes(s3, bucket, object.key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      rows += 1;
      // A quarantine row quotes the record it refused; any of its strings may be the id.
      const strings = line.match(/"(?:[^"\\]|\\.)*"/g) ?? [];
      if (strings.some((quoted) => rejected.has(JSON.parse(quoted) as string))) rejectedFound += 1;
    }
  }
  return { rows, rejectedFound };
}

async function checkCurated(
  s3: S3Client,
  accepted: ReadonlySet<string>,
  rejected: ReadonlySet<string>,
): Promise<ZoneCheck> {
  const seen = new Map<string, number>();
  let rejectedFound = 0;
  for (const dataset of DATASETS) {
    for (const [bucket, table] of [
      [bucketName(LOCAL, 'curated'), dataset.name],
      [bucketName(LOCAL, 'quarantine'), `${QUARANTINE_CURATED_PREFIX}/${dataset.name}`],
    ] as const) {
      for (const value of await readDeltaColumn(s3, bucket, table, dataset.idField)) {
        const id = String(value);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (rejected.has(id)) rejectedFound += 1;
      }
    }
  }
  return tally(seen, accepted, rejectedFound);
}

function countDuplicates(seen: ReadonlyMap<string, number>): number {
  let extra = 0;
  for (const n of seen.values()) extra += n - 1;
  return extra;
}

function tally(
  seen: ReadonlyMap<string, number>,
  accepted: ReadonlySet<string>,
  rejectedFound: number,
): ZoneCheck {
  let present = 0;
  for (const id of accepted) if (seen.has(id)) present += 1;
  return { present, lost: accepted.size - present, duplicateRows: countDuplicates(seen), rejectedFound };
}
