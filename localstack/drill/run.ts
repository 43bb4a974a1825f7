import { createHash, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { Kafka, logLevel } from 'kafkajs';
import { mskEvent } from '../../lambdas/sink/msk-event';
import { type EnvironmentConfig, environmentConfig } from '../../lib/config/environments';
import { bucketName, glueDatabaseName } from '../../lib/config/lake';
import type { SparkJobBuckets } from '../../lib/config/spark-jobs';
import { sinkGroupPrefix } from '../../lib/config/topics';
import { DATASETS, topicOf } from '../../schemas';
import { lambdaContext } from '../runtime/api/proxy-event';
import { startPipeline } from '../runtime/pipeline';
import { provisionLake } from '../services/emulator/provision';
import { tail, waitFor } from '../services/process';
import { sendRecords } from '../tools/generator/send';
import { kafkaRangeReader } from '../tools/kafka/range-reader';
import { deltaLiveFiles } from '../tools/lake/inventory';
import { listObjects, readParquetRows } from '../tools/lake/objects';
import { runJob, runRawToCurated } from '../tools/spark/run';

/**
 * The disaster recovery drill (README "Disaster recovery"): on a running local platform, load records,
 * then rehearse two losses and time their recovery from detection to verified state. The drill works in
 * a lake of its own (buckets, Glue database and sink consumer groups named `<lakePrefix>-…`), so other
 * users of the same emulator and broker neither disturb it nor are disturbed.
 * 1. curated corrupted (a bad commit deletes every row) → `maintenance.py --action restore` to the last good
 *    Delta version; verified row for row (ids and a checksum of every column).
 * 2. raw objects lost (every Parquet object of the dataset deleted) → the retained Kafka records re-driven
 *    through the sink handler with the replay tooling's range reader; verified row for row (every column,
 *    Kafka coordinates included; the objects may be cut differently from the mapping's batches).
 */

export interface DrillOptions {
  /** KAFKA_BROKERS, AWS_ENDPOINT_URL, AWS_* (Services.env). */
  readonly services: Readonly<Record<string, string>>;
  readonly records: number;
  /** The dataset the drill loads and damages. */
  readonly dataset?: string;
  readonly logDir: string;
  readonly log: (line: string) => void;
  /** Prefix of the drill's buckets, Glue database and consumer groups. Default: unique per run. */
  readonly lakePrefix?: string;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly recovery: string;
  /** Seconds from the start of recovery (damage detected) to the verified state. */
  readonly rtoSeconds: number;
  /** Accepted records missing after recovery: must be 0. */
  readonly rpoRecords: number;
  /** Accepted records of the drill the damage removed. */
  readonly damaged: number;
  /** The restored state equals the state before the damage (ids and checksum). */
  readonly verified: boolean;
  readonly loadAverage: readonly number[];
}

export interface DrillReport {
  readonly startedAt: string;
  readonly dataset: string;
  /** Prefix of the drill's buckets, Glue database and consumer groups. */
  readonly lakePrefix: string;
  readonly accepted: number;
  readonly scenarios: readonly ScenarioResult[];
  readonly passed: boolean;
}

const LOCAL = environmentConfig('local');
const load = () => loadavg().map((n) => Math.round(n * 100) / 100);
const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

/** Ids and a checksum of rows, independent of their order and of BigInt columns. */
export function fingerprint(rows: readonly Record<string, unknown>[], idField: string) {
  const lines = rows
    .map((row) => JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
    .sort();
  return {
    ids: new Set(rows.map((row) => String(row[idField]))),
    checksum: createHash('sha256').update(lines.join('\n')).digest('hex'),
  };
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const { log, services } = options;
  const brokers = services.KAFKA_BROKERS;
  if (!brokers) throw new Error('the drill needs Kafka (KAFKA_BROKERS)');
  const dataset = DATASETS.find((d) => d.name === (options.dataset ?? DATASETS[0].name));
  if (!dataset) throw new Error(`unknown dataset ${options.dataset}`);
  const startedAt = new Date().toISOString();
  const lake: EnvironmentConfig = {
    ...LOCAL,
    prefix: options.lakePrefix ?? `lakehouse-drill-${Date.now().toString(36)}`,
  };
  const endpoint = services.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('the drill needs the AWS emulator (AWS_ENDPOINT_URL)');
  await provisionLake(lake, endpoint);
  const s3 = new S3Client({ endpoint, region: services.AWS_REGION, forcePathStyle: true });
  const pipeline = await startPipeline({
    services,
    apiPort: 0,
    logDir: options.logDir,
    rawBucket: bucketName(lake, 'raw'),
    quarantineBucket: bucketName(lake, 'quarantine'),
    glueDatabase: glueDatabaseName(lake),
    groupPrefix: sinkGroupPrefix(lake),
    // The topics are shared (one per dataset, whoever else uses the broker): the drill's sink starts at the
    // end of them, so its raw zone holds the drill's records only, not what other runs left there.
    sink: { startingPosition: 'LATEST' },
  });
  try {
    await waitFor(async () => (await fetch(`${pipeline.api.url}/health`)).status === 200, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the API to report Kafka connected',
    });
    log(`load: ${options.records} ${dataset.name} records`);
    const tally = await sendRecords({
      apiUrl: pipeline.api.url,
      rate: 1000,
      count: options.records,
      route: 'batch',
      batchSize: 100,
      datasets: [dataset.name],
      invalidShare: 0,
      runId: `drill${Date.now()}`,
    });
    const accepted = new Set(tally.byDataset[dataset.name]?.acceptedIds ?? []);
    await waitFor(async () => (await pipeline.lag()) === 0, {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: 'consumer lag 0',
    });
    await pipeline.stopSink();

    const raw = await rebuildRaw(s3, pipeline.rawBucket, dataset, accepted, brokers, log);
    const buckets: SparkJobBuckets = {
      raw: bucketName(lake, 'raw'),
      curated: bucketName(lake, 'curated'),
      gold: bucketName(lake, 'gold'),
      quarantine: bucketName(lake, 'quarantine'),
      scripts: bucketName(lake, 'scripts'),
    };
    const curated = await restoreCurated(s3, dataset, accepted, services, buckets, options.logDir, log);
    const scenarios = [curated, raw];
    return {
      startedAt,
      dataset: dataset.name,
      lakePrefix: lake.prefix,
      accepted: accepted.size,
      scenarios,
      passed: scenarios.every((s) => s.verified && s.rpoRecords === 0),
    };
  } finally {
    await pipeline.stop().catch(() => {});
    s3.destroy();
  }
}

type Dataset = (typeof DATASETS)[number];

async function rawState(s3: S3Client, bucket: string, dataset: Dataset) {
  const keys = (await listObjects(s3, bucket, `${dataset.name}/`))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.parquet'))
    .sort();
  const rows: Record<string, unknown>[] = [];
  for (const key of keys) {
    rows.push(...(await readParquetRows(s3, bucket, key)));
  }
  return { keys, ...fingerprint(rows, dataset.idField) };
}

/** Per Kafka partition, the lowest first offset and the highest last offset of the raw objects. */
async function offsetRanges(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
): Promise<Map<number, { first: bigint; last: bigint }>> {
  const ranges = new Map<number, { first: bigint; last: bigint }>();
  for (const key of keys) {
    const partition = Number(/\+(\d+)\+\d+\.parquet$/.exec(key)?.[1]);
    const { Metadata = {} } = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (Metadata['first-offset'] === undefined || Metadata['last-offset'] === undefined) {
      throw new Error(
        `s3://${bucket}/${key} has no first-offset/last-offset metadata: not written by the sink`,
      );
    }
    const first = BigInt(Metadata['first-offset']);
    const last = BigInt(Metadata['last-offset']);
    const range = ranges.get(partition);
    ranges.set(partition, {
      first: range && range.first < first ? range.first : first,
      last: range && range.last > last ? range.last : last,
    });
  }
  return ranges;
}

async function rebuildRaw(
  s3: S3Client,
  bucket: string,
  dataset: Dataset,
  accepted: ReadonlySet<string>,
  brokers: string,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const before = await rawState(s3, bucket, dataset);
  // What to re-drive: the offsets the objects held, per partition (their first-offset/last-offset metadata,
  // as an inventory or the sink's logs keep them) — not the whole retention, which holds other writers' records.
  const ranges = await offsetRanges(s3, bucket, before.keys);
  log(`raw: deleting ${before.keys.length} objects of ${dataset.name}`);
  for (let i = 0; i < before.keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: before.keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
  const damaged = lost(accepted, (await rawState(s3, bucket, dataset)).ids);

  const started = performance.now();
  const { handler } = await import('../../lambdas/sink/handler');
  const kafka = new Kafka({
    clientId: 'drill',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const topic = topicOf(dataset);
  const read = kafkaRangeReader(kafka);
  let replayed = 0;
  for (const [partition, range] of ranges) {
    const messages = await read({ topic, partition, firstOffset: range.first, lastOffset: range.last });
    // In the mapping's batch sizes, so the sink writes the same objects it wrote the first time.
    for (let i = 0; i < messages.length; i += LOCAL.sink.batchSize) {
      const batch = messages.slice(i, i + LOCAL.sink.batchSize);
      await handler(
        mskEvent(batch, { bootstrapServers: brokers }),
        lambdaContext('sink-drill', LOCAL.sink.timeoutSeconds * 1000, randomUUID()) as Context,
      );
      replayed += batch.length;
    }
  }
  const after = await rawState(s3, bucket, dataset);
  const rtoSeconds = seconds(started);
  log(`raw: ${replayed} Kafka records replayed through the sink in ${rtoSeconds} s`);
  return {
    scenario: 'raw objects lost',
    recovery: 'replay Kafka retention through the sink',
    rtoSeconds,
    rpoRecords: lost(accepted, after.ids),
    damaged,
    verified: after.checksum === before.checksum && after.ids.size === before.ids.size,
    loadAverage: load(),
  };
}

/** The accepted records missing from a state: the topic may hold other producers' records too. */
const lost = (accepted: ReadonlySet<string>, ids: ReadonlySet<string>) =>
  [...accepted].filter((id) => !ids.has(id)).length;

async function curatedState(s3: S3Client, bucket: string, dataset: Dataset) {
  const live = (await deltaLiveFiles(s3, bucket, `${dataset.name}/`)).get(dataset.name) ?? new Map();
  const rows: Record<string, unknown>[] = [];
  for (const path of live.keys())
    rows.push(...(await readParquetRows(s3, bucket, `${dataset.name}/${path}`)));
  return fingerprint(rows, dataset.idField);
}

async function restoreCurated(
  s3: S3Client,
  dataset: Dataset,
  accepted: ReadonlySet<string>,
  services: Readonly<Record<string, string>>,
  buckets: SparkJobBuckets,
  logDir: string,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const bucket = buckets.curated;
  const sparkLog = join(logDir, 'spark.log');
  log(`curated: raw_to_curated ${dataset.name}`);
  if ((await runRawToCurated(dataset.name, services, sparkLog, buckets)) !== 0) {
    throw new Error(`raw_to_curated failed (see ${sparkLog}):\n${tail(sparkLog)}`);
  }
  const before = await curatedState(s3, bucket, dataset);
  const commits = (await listObjects(s3, bucket, `${dataset.name}/_delta_log/`))
    .map((o) => /(\d{20})\.json$/.exec(o.key)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort();
  const good = Number(commits[commits.length - 1]);
  // The damage: a bad job's commit that deletes every row (a valid Delta commit, so readers see it).
  const now = Date.now();
  const live = (await deltaLiveFiles(s3, bucket, `${dataset.name}/`)).get(dataset.name) ?? new Map();
  const actions = [...live.keys()].map((path) =>
    JSON.stringify({ remove: { path, deletionTimestamp: now, dataChange: true } }),
  );
  actions.push(JSON.stringify({ commitInfo: { timestamp: now, operation: 'DELETE', engineInfo: 'drill' } }));
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${dataset.name}/_delta_log/${String(good + 1).padStart(20, '0')}.json`,
      Body: `${actions.join('\n')}\n`,
    }),
  );
  const damaged = lost(accepted, (await curatedState(s3, bucket, dataset)).ids);
  log(`curated: corrupted (version ${good + 1} deleted ${damaged} rows); restoring version ${good}`);

  const started = performance.now();
  const code = await runJob(
    'maintenance.py',
    { '--action': 'restore', '--table_uri': `s3://${bucket}/${dataset.name}`, '--version': String(good) },
    services,
    sparkLog,
  );
  if (code !== 0)
    throw new Error(`maintenance.py --action restore failed (see ${sparkLog}):\n${tail(sparkLog)}`);
  const after = await curatedState(s3, bucket, dataset);
  const rtoSeconds = seconds(started);
  log(`curated: restored and verified in ${rtoSeconds} s`);
  return {
    scenario: 'curated corrupted',
    recovery: `Delta time travel: maintenance.py --action restore --version ${good}`,
    rtoSeconds,
    rpoRecords: lost(accepted, after.ids),
    damaged,
    verified: after.checksum === before.checksum && after.ids.size === before.ids.size,
    loadAverage: load(),
  };
}
