import { type DatasetDefinition, type FieldKind, utcDateAndHour } from '../../schemas';
import { type ParquetColumn, rawParquetSchema } from '../../schemas/parquet';
import { type QuarantineLine, TIMESTAMP_PARSERS, type ValidRow } from './check';
import { DEFAULT_MAX_HOUR_FILES, type SinkSettings } from './config';
import { LATE_HOUR, quarantineObjectKey, rawObjectKey, UNKNOWN_DATASET } from './keys';
import type { ParquetEncoder } from './parquet';

export interface PutObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly metadata: Record<string, string>;
}

export interface RawPartition {
  readonly date: string;
  readonly hour: string;
}

type ColumnReader = (row: ValidRow) => unknown;

const METADATA_READERS: Record<string, ColumnReader> = {
  _ingest_time: (r) => r.ingestMicros,
  _request_id: (r) => r.requestId,
  _schema_version: (r) => r.schemaVersion,
  _kafka_topic: (r) => r.record.topic,
  _kafka_partition: (r) => r.record.partition,
  _kafka_offset: (r) => BigInt(r.record.offset),
  _kafka_timestamp: (r) => BigInt(r.record.timestamp) * 1000n,
};

function fieldReader(name: string, kind: FieldKind, isEventTime: boolean): ColumnReader {
  if (isEventTime) return (r) => r.eventMicros;
  const parse = TIMESTAMP_PARSERS[kind];
  if (parse) return (r) => (typeof r.data[name] === 'string' ? parse(r.data[name] as string) : null);
  if (kind === 'json') return (r) => (r.data[name] == null ? null : JSON.stringify(r.data[name]));
  return (r) => r.data[name] ?? null;
}

interface DatasetLayout {
  readonly columns: readonly ParquetColumn[];
  readonly readers: readonly ColumnReader[];
}

const layouts = new WeakMap<DatasetDefinition, DatasetLayout>();

/** The Parquet columns of a dataset and how to read each from a row, derived once per definition. */
function layoutOf(dataset: DatasetDefinition): DatasetLayout {
  let layout = layouts.get(dataset);
  if (!layout) {
    const columns = rawParquetSchema(dataset);
    const readers = columns.map(({ column }) => {
      if (column.source === 'metadata') {
        const reader = METADATA_READERS[column.name];
        if (!reader) throw new Error(`No value for metadata column ${column.name}`);
        return reader;
      }
      const field = dataset.fields[column.name];
      if (!field) throw new Error(`No field ${column.name} in ${dataset.name}`);
      return fieldReader(column.name, field.kind, column.name === dataset.eventTimeField);
    });
    layout = { columns, readers };
    layouts.set(dataset, layout);
  }
  return layout;
}

/** Groups items by a string key, keeping first-seen order of groups and items. */
function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function byOffset(a: { offset: number }, b: { offset: number }): number {
  return a.offset - b.offset;
}

function offsetRangeMetadata(records: readonly { offset: number }[]): Record<string, string> {
  // biome-ignore lint/style/noNonNullAssertion: groups are never empty
  return { 'first-offset': String(records[0]!.offset), 'last-offset': String(records.at(-1)!.offset) };
}

const encoder = new TextEncoder();
const MICROS_PER_HOUR = 3_600_000_000n;

/** The objects a batch writes: raw Parquet files first, then quarantine files; and the partitions to register. */
export interface ObjectPlan {
  readonly puts: readonly PutObject[];
  /** puts[0..rawFiles) are raw files, the rest quarantine files. */
  readonly rawFiles: number;
  /** Per dataset, the raw partitions written, keyed `date/hour`. */
  readonly partitions: ReadonlyMap<string, ReadonlyMap<string, RawPartition>>;
}

/**
 * One Parquet file per dataset, topic-partition and event hour (at most `maxHourFiles` hours, then one late
 * file: see keys.ts) and one JSON-lines quarantine file per dataset, topic-partition and Kafka day; keys are
 * deterministic (first offset), so a retried batch overwrites rather than duplicates.
 */
export function planObjects(
  valid: readonly { dataset: DatasetDefinition; row: ValidRow }[],
  rejected: readonly QuarantineLine[],
  settings: SinkSettings,
  parquet: ParquetEncoder,
): ObjectPlan {
  const puts: PutObject[] = [];
  const partitions = new Map<string, Map<string, RawPartition>>();
  for (const { dataset, at, rows } of rawFileGroups(valid, settings.maxHourFiles ?? DEFAULT_MAX_HOUR_FILES)) {
    // biome-ignore lint/style/noNonNullAssertion: groups are never empty
    const { topic, partition, offset } = rows[0]!.record;
    const { date, hour } = at;
    const { columns, readers } = layoutOf(dataset);
    const recordsInFile = rows.map((r) => r.record);
    puts.push({
      bucket: settings.rawBucket,
      key: rawObjectKey(dataset.name, date, hour, { topic, partition, firstOffset: BigInt(offset) }),
      body: parquet.encode(
        columns,
        readers.map((read) => rows.map(read)),
      ),
      contentType: 'application/vnd.apache.parquet',
      metadata: {
        ...offsetRangeMetadata(recordsInFile),
        rows: String(rows.length),
        'schema-version': String(dataset.schemaVersion),
      },
    });
    const datasetPartitions = partitions.get(dataset.name) ?? new Map<string, RawPartition>();
    datasetPartitions.set(`${date}/${hour}`, { date, hour });
    partitions.set(dataset.name, datasetPartitions);
  }
  const rawFiles = puts.length;
  puts.push(...quarantineFiles(rejected, settings.quarantineBucket));
  return { puts, rawFiles, partitions };
}

/**
 * Per topic-partition in offset order, the first maxHourFiles distinct hours get their own file; records of
 * later-seen hours share one late file, dated by the Kafka time of the first of them (keys.ts).
 */
function rawFileGroups(
  valid: readonly { dataset: DatasetDefinition; row: ValidRow }[],
  maxHourFiles: number,
): { dataset: DatasetDefinition; at: RawPartition; rows: ValidRow[] }[] {
  // Formatting a date per row is a measurable share of a 10,000-record batch: format once per hour.
  const hours = new Map<bigint, RawPartition>();
  const partitionOf = (micros: bigint): RawPartition => {
    const hourStart = micros - (((micros % MICROS_PER_HOUR) + MICROS_PER_HOUR) % MICROS_PER_HOUR);
    let partition = hours.get(hourStart);
    if (!partition) {
      partition = utcDateAndHour(hourStart);
      hours.set(hourStart, partition);
    }
    return partition;
  };
  const groups: { dataset: DatasetDefinition; at: RawPartition; rows: ValidRow[] }[] = [];
  // A topic carries one dataset, so a topic-partition's files differ by partition and schema version.
  const byPartition = groupBy(valid, ({ row }) => `${row.record.topic}\n${row.record.partition}`);
  for (const members of byPartition.values()) {
    members.sort((a, b) => byOffset(a.row.record, b.row.record)); // already sorted as delivered: linear
    const files = new Map<RawPartition, typeof members>();
    let late: RawPartition | undefined;
    for (const member of members) {
      const { row } = member;
      let at = partitionOf(row.eventMicros);
      if (!files.has(at) && files.size - (late ? 1 : 0) >= maxHourFiles) {
        late ??= { date: new Date(row.record.timestamp).toISOString().slice(0, 10), hour: LATE_HOUR };
        at = late;
      }
      const rows = files.get(at);
      if (rows) rows.push(member);
      else files.set(at, [member]);
    }
    // One file per version: a file's Parquet schema is its version's (older files lack later columns).
    for (const [at, inHour] of files) {
      for (const same of groupBy(inHour, ({ dataset }) => String(dataset.schemaVersion)).values()) {
        // biome-ignore lint/style/noNonNullAssertion: groups are never empty
        groups.push({ dataset: same[0]!.dataset, at, rows: same.map(({ row }) => row) });
      }
    }
  }
  return groups;
}

function quarantineFiles(rejected: readonly QuarantineLine[], bucket: string): PutObject[] {
  const groups = groupBy(
    rejected,
    (line) =>
      `${line.dataset ?? UNKNOWN_DATASET}\n${line.topic}\n${line.partition}\n${line.kafka_timestamp.slice(0, 10)}`,
  );
  return [...groups.values()].map((lines) => {
    lines.sort(byOffset);
    // biome-ignore lint/style/noNonNullAssertion: groups are never empty
    const { dataset, topic, partition, kafka_timestamp, offset } = lines[0]!;
    return {
      bucket,
      key: quarantineObjectKey(dataset ?? UNKNOWN_DATASET, kafka_timestamp.slice(0, 10), {
        topic,
        partition,
        firstOffset: BigInt(offset),
      }),
      body: encoder.encode(lines.map((line) => `${JSON.stringify(line)}\n`).join('')),
      contentType: 'application/x-ndjson',
      metadata: { ...offsetRangeMetadata(lines), rows: String(lines.length) },
    };
  });
}
