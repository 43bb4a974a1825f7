import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { environmentConfig } from '../../lib/config/environments';
import { bucketName, QUARANTINE_CURATED_PREFIX, QUARANTINE_SINK_PREFIX } from '../../lib/config/lake';
import { DATASETS } from '../../schemas';
import { waitFor } from '../services/process';
import type { SendTally } from '../tools/generator/send';
import { readDeltaColumn } from '../tools/lake/inventory';
import { getBytes, listObjects, readParquetRows } from '../tools/lake/objects';
import { runLocalSpark } from '../tools/spark/run';
import type { ChaosPlatform } from './platform';

/** The last stage of a chaos run (./run.ts): every zone checked against what the API answered. */

export interface ValidateOptions {
  /** Run raw_to_curated and check curated (the slow part). */
  readonly spark: boolean;
  /** Spark's output to the terminal rather than `<dir>/logs/`. */
  readonly verbose?: boolean;
  readonly log: (line: string) => void;
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

export interface RawCheck extends ZoneCheck {
  /** Duplicate raw rows at a coordinate already seen: a sink redelivery that was not overwritten. */
  readonly sameCoordinates: number;
  /** Duplicate raw rows at other offsets: a request retried after its first attempt reached Kafka. */
  readonly retriedProduces: number;
}

export interface Validation {
  readonly raw: RawCheck;
  readonly sinkQuarantine: { readonly rows: number; readonly rejectedFound: number };
  readonly curated?: ZoneCheck & { readonly spark: string };
}

const LOCAL = environmentConfig('local');

/** Once the sinks caught up: every accepted record in raw (and curated) exactly once, no rejected one. */
export async function validate(
  platform: ChaosPlatform,
  options: ValidateOptions,
  tally: SendTally,
): Promise<Validation> {
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
  let curated: Validation['curated'];
  if (options.spark) {
    await pipeline.stopSink();
    log('validation: Spark raw_to_curated and curated_to_gold');
    const spark = await runLocalSpark(platform.direct, log, {
      logFile: options.verbose ? undefined : join(platform.dir, 'logs', 'spark.log'),
    });
    curated = { ...(await checkCurated(s3, accepted, rejected)), spark };
  }
  return { raw, sinkQuarantine, curated };
}

async function checkRaw(
  s3: S3Client,
  bucket: string,
  accepted: ReadonlySet<string>,
  rejected: ReadonlySet<string>,
): Promise<RawCheck> {
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
