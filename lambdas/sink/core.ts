import {
  type DatasetDefinition,
  type DatasetRegistry,
  type FieldError,
  type FieldKind,
  INGEST_HEADERS,
  parseDateOrTimestampMicros,
  parseTimestampMicros,
  type RegisteredDataset,
  utcDateAndHour,
} from '../../schemas';
import { type ParquetColumn, rawParquetSchema } from '../../schemas/parquet';
import type { ParquetEncoder } from '../shared/parquet';
import { DEFAULT_MAX_HOUR_FILES, type SinkSettings } from './config';
import { LATE_HOUR, quarantineObjectKey, rawObjectKey, UNKNOWN_DATASET } from './keys';

/** One Kafka record as the event source mapping delivers it, with key, value and headers decoded. */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Kafka record timestamp, epoch milliseconds. */
  readonly timestamp: number;
  readonly key?: string | null;
  /** The value as UTF-8 text; null for a tombstone. */
  readonly value?: string | null;
  /** The value exactly as delivered (base64), kept in quarantine so nothing is lost to decoding. */
  readonly originalValue?: string | null;
  readonly headers?: readonly Record<string, string>[] | null;
}

export interface PutObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly metadata: Record<string, string>;
}

/** The S3 writer: a put that overwrites (deterministic keys make that the retry semantics). */
export interface ObjectWriter {
  put(object: PutObject): Promise<void>;
}

export interface RawPartition {
  readonly date: string;
  readonly hour: string;
}

/** Registers raw partitions in the catalog; must treat an existing partition as success. */
export interface CatalogRegistrar {
  registerPartitions(dataset: string, partitions: readonly RawPartition[]): Promise<void>;
}

export interface SinkLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface SinkDependencies {
  readonly registry: DatasetRegistry;
  readonly writer: ObjectWriter;
  readonly catalog: CatalogRegistrar;
  readonly encoder: ParquetEncoder;
  /** Epoch milliseconds now; read once the batch is written, for the accept-to-write latency. */
  readonly clock: () => number;
  readonly settings: SinkSettings;
  readonly logger?: SinkLogger;
}

export interface WrittenObject {
  readonly bucket: string;
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface SinkSummary {
  readonly records: number;
  readonly written: number;
  readonly quarantined: number;
  readonly rawFiles: readonly WrittenObject[];
  readonly quarantineFiles: readonly WrittenObject[];
  readonly bytes: number;
  /** Now minus the API's accept time of the written records, in milliseconds (undefined: none written). */
  readonly acceptToWriteMs?: { readonly max: number; readonly avg: number };
  /** Catalog registrations that failed (data is written regardless; the next batch retries them). */
  readonly catalogFailures: number;
}

export type QuarantineReason =
  | 'unknown_topic'
  | 'missing_value'
  | 'invalid_json'
  | 'invalid_headers'
  | 'validation_failed';

/** One line of a sink quarantine file. */
export interface QuarantineLine {
  readonly reason: QuarantineReason;
  readonly detail: readonly FieldError[] | string;
  readonly dataset: string | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly kafka_timestamp: string;
  readonly key: string | null;
  readonly headers: readonly Record<string, string>[] | null;
  /** The value as UTF-8 text (lossy for non-UTF-8 bytes) and exactly as delivered, base64. */
  readonly value: string | null;
  readonly value_base64: string | null;
}

/** A record that passed validation, with the values of its raw columns. */
interface ValidRow {
  readonly record: KafkaRecord;
  readonly data: Record<string, unknown>;
  readonly ingestMicros: bigint;
  readonly requestId: string;
  readonly schemaVersion: number;
  readonly eventMicros: bigint;
}

type Checked =
  /** `dataset` is the record's version of its dataset (Kafka header schema-version). */
  | { readonly ok: true; readonly row: ValidRow; readonly dataset: DatasetDefinition }
  | {
      readonly ok: false;
      readonly reason: QuarantineReason;
      readonly detail: readonly FieldError[] | string;
    };

const TIMESTAMP_PARSERS: Partial<Record<FieldKind, (text: string) => bigint | undefined>> = {
  timestamp: parseTimestampMicros,
  date_or_timestamp: parseDateOrTimestampMicros,
};

const INT32_MAX = 2 ** 31 - 1;

/** The last value of a header (Kafka allows repeats), or undefined when absent. */
function headerOf(record: KafkaRecord, name: string): string | undefined {
  let value: string | undefined;
  for (const header of record.headers ?? []) if (name in header) value = header[name];
  return value;
}

type IngestColumns = Pick<ValidRow, 'ingestMicros' | 'requestId' | 'schemaVersion'>;

/**
 * The ingest metadata of a record, from its headers. A record produced by another tool may lack them: the
 * ingest time is then the Kafka timestamp, the request id empty and the schema version the dataset's.
 * Headers that are present must be right, or the record is quarantined.
 */
function ingestColumns(
  record: KafkaRecord,
  dataset: DatasetDefinition,
  parseInstant: (text: string) => bigint | undefined,
): IngestColumns | string {
  const named = headerOf(record, INGEST_HEADERS.dataset);
  if (named !== undefined && named !== dataset.name) {
    return `header ${INGEST_HEADERS.dataset} is ${JSON.stringify(named)}, topic carries ${dataset.name}`;
  }
  const contentType = headerOf(record, INGEST_HEADERS.contentType);
  if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
    return `header ${INGEST_HEADERS.contentType} is ${JSON.stringify(contentType)}, expected application/json`;
  }
  const ingestTime = headerOf(record, INGEST_HEADERS.ingestTime);
  const ingestMicros = ingestTime === undefined ? BigInt(record.timestamp) * 1000n : parseInstant(ingestTime);
  if (ingestMicros === undefined) {
    return `header ${INGEST_HEADERS.ingestTime} is not an ISO-8601 date-time: ${JSON.stringify(ingestTime)}`;
  }
  const version = headerOf(record, INGEST_HEADERS.schemaVersion);
  const schemaVersion = version === undefined ? dataset.schemaVersion : Number(version);
  if (!/^\d{1,10}$/.test(version ?? '0') || schemaVersion > INT32_MAX) {
    return `header ${INGEST_HEADERS.schemaVersion} is not an int32: ${JSON.stringify(version)}`;
  }
  return { ingestMicros, requestId: headerOf(record, INGEST_HEADERS.requestId) ?? '', schemaVersion };
}

/**
 * Reads the ingest headers, parses the value (the record, flat) and re-validates it against the version
 * of its dataset that its schema-version header names.
 */
function check(
  record: KafkaRecord,
  registered: RegisteredDataset,
  parseInstant: (text: string) => bigint | undefined,
): Checked {
  const { value } = record;
  if (value === null || value === undefined) {
    return { ok: false, reason: 'missing_value', detail: 'The message has no value (tombstone)' };
  }
  const columns = ingestColumns(record, registered.definition, parseInstant);
  if (typeof columns === 'string') return { ok: false, reason: 'invalid_headers', detail: columns };
  const version = registered.version(columns.schemaVersion);
  if (!version) return { ok: false, reason: 'invalid_headers', detail: unknownVersion(registered, columns) };
  const dataset = version.definition;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    return { ok: false, reason: 'invalid_json', detail: (e as Error).message };
  }
  const validation = version.validate(parsed);
  if (!validation.ok) return { ok: false, reason: 'validation_failed', detail: validation.errors };
  const data = validation.record;
  const eventField = dataset.fields[dataset.eventTimeField];
  const parse = (eventField && TIMESTAMP_PARSERS[eventField.kind]) ?? parseTimestampMicros;
  // Validation guarantees the event time parses; the fallback only keeps the type checker honest.
  const eventMicros = parse(String(data[dataset.eventTimeField])) ?? columns.ingestMicros;
  return { ok: true, dataset, row: { record, data, eventMicros, ...columns } };
}

/** A version this sink does not know yet: producers ran ahead of it (the rollout order is sink first). */
function unknownVersion(registered: RegisteredDataset, columns: IngestColumns): string {
  const { name, schemaVersion } = registered.definition;
  return (
    `header ${INGEST_HEADERS.schemaVersion} is ${columns.schemaVersion}, not a version of ${name} (1..${schemaVersion}): ` +
    'deploy the sink with the new definition before producers send it; this line keeps the headers and the value to produce again'
  );
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

function quarantineLine(
  record: KafkaRecord,
  dataset: string | null,
  reason: QuarantineReason,
  detail: readonly FieldError[] | string,
): QuarantineLine {
  return {
    reason,
    detail,
    dataset,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    kafka_timestamp: new Date(record.timestamp).toISOString(),
    key: record.key ?? null,
    headers: record.headers ?? null,
    value: record.value ?? null,
    value_base64: record.originalValue ?? null,
  };
}

const encoder = new TextEncoder();
const MICROS_PER_HOUR = 3_600_000_000n;

/**
 * The sink: validates a batch of Kafka records, writes the valid ones as Parquet files (one per dataset,
 * topic-partition and event hour, at most `maxHourFiles` hours, then one late file: see keys.ts) to the raw zone and the rest as JSON lines to the quarantine zone, then
 * registers the new partitions in the catalog. Throws when any object could not be written, so that the
 * event source mapping retries the whole batch (deterministic keys make the retry overwrite, not duplicate).
 */
export async function sinkBatch(
  records: readonly KafkaRecord[],
  deps: SinkDependencies,
): Promise<SinkSummary> {
  const { registry, settings } = deps;
  const valid: { dataset: DatasetDefinition; row: ValidRow }[] = [];
  const rejected: QuarantineLine[] = [];
  // The records of one API request share their ingest time: parse each distinct value once.
  const instants = new Map<string, bigint | undefined>();
  const parseInstant = (text: string) => {
    if (!instants.has(text)) instants.set(text, parseTimestampMicros(text));
    return instants.get(text);
  };
  for (const record of records) {
    const registered = registry.byTopic(record.topic);
    if (!registered) {
      rejected.push(
        quarantineLine(record, null, 'unknown_topic', `No dataset is published on ${record.topic}`),
      );
      continue;
    }
    const checked = check(record, registered, parseInstant);
    if (checked.ok) valid.push({ dataset: checked.dataset, row: checked.row });
    else rejected.push(quarantineLine(record, registered.definition.name, checked.reason, checked.detail));
  }

  const puts: PutObject[] = [];
  const partitions = new Map<string, Map<string, RawPartition>>();
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
  // Per topic-partition in offset order, the first maxHourFiles distinct hours get their own file; records
  // of later-seen hours share one late file, dated by the Kafka time of the first of them (keys.ts).
  const maxHourFiles = settings.maxHourFiles ?? DEFAULT_MAX_HOUR_FILES;
  const rawGroups: { dataset: DatasetDefinition; at: RawPartition; rows: ValidRow[] }[] = [];
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
        rawGroups.push({ dataset: same[0]!.dataset, at, rows: same.map(({ row }) => row) });
      }
    }
  }
  for (const { dataset, at, rows } of rawGroups) {
    // biome-ignore lint/style/noNonNullAssertion: groups are never empty
    const { topic, partition } = rows[0]!.record;
    const datasetName = dataset.name;
    const { date, hour } = at;
    const { columns, readers } = layoutOf(dataset);
    const recordsInFile = rows.map((r) => r.record);
    // biome-ignore lint/style/noNonNullAssertion: groups are never empty
    const firstOffset = BigInt(recordsInFile[0]!.offset);
    puts.push({
      bucket: settings.rawBucket,
      key: rawObjectKey(datasetName, date, hour, { topic, partition, firstOffset }),
      body: deps.encoder.encode(
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
    const datasetPartitions = partitions.get(datasetName) ?? new Map<string, RawPartition>();
    datasetPartitions.set(`${date}/${hour}`, { date, hour });
    partitions.set(datasetName, datasetPartitions);
  }
  const rawFileCount = puts.length;

  const quarantineGroups = groupBy(
    rejected,
    (line) =>
      `${line.dataset ?? UNKNOWN_DATASET}\n${line.topic}\n${line.partition}\n${line.kafka_timestamp.slice(0, 10)}`,
  );
  for (const lines of quarantineGroups.values()) {
    lines.sort(byOffset);
    // biome-ignore lint/style/noNonNullAssertion: groups are never empty
    const { dataset, topic, partition, kafka_timestamp, offset } = lines[0]!;
    const firstOffset = BigInt(offset);
    puts.push({
      bucket: settings.quarantineBucket,
      key: quarantineObjectKey(dataset ?? UNKNOWN_DATASET, kafka_timestamp.slice(0, 10), {
        topic,
        partition,
        firstOffset,
      }),
      body: encoder.encode(lines.map((line) => `${JSON.stringify(line)}\n`).join('')),
      contentType: 'application/x-ndjson',
      metadata: { ...offsetRangeMetadata(lines), rows: String(lines.length) },
    });
  }

  const results = await Promise.allSettled(puts.map((put) => deps.writer.put(put)));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ key: puts[i]?.key, error: r.reason }] : [],
  );
  if (failures.length > 0) {
    throw new AggregateError(
      failures.map((f) => f.error),
      `Failed to write ${failures.length} of ${puts.length} objects (${failures.map((f) => f.key).join(', ')}); the batch will be retried`,
    );
  }
  const now = deps.clock();

  let catalogFailures = 0;
  await Promise.all(
    [...partitions].map(async ([dataset, datasetPartitions]) => {
      try {
        await deps.catalog.registerPartitions(dataset, [...datasetPartitions.values()]);
      } catch (error) {
        catalogFailures += 1;
        deps.logger?.warn('Catalog registration failed; the data is written and a later batch retries', {
          dataset,
          partitions: [...datasetPartitions.keys()],
          error: String(error),
        });
      }
    }),
  );

  const written = puts.map((put, i) => ({
    bucket: put.bucket,
    key: put.key,
    rows: Number(put.metadata.rows),
    bytes: put.body.byteLength,
    raw: i < rawFileCount,
  }));
  const latencies = valid.map(({ row }) => now - Number(row.ingestMicros / 1000n));
  return {
    records: records.length,
    written: valid.length,
    quarantined: rejected.length,
    rawFiles: written.filter((w) => w.raw).map(({ raw: _, ...w }) => w),
    quarantineFiles: written.filter((w) => !w.raw).map(({ raw: _, ...w }) => w),
    bytes: written.reduce((sum, w) => sum + w.bytes, 0),
    ...(latencies.length > 0 && {
      acceptToWriteMs: {
        max: Math.max(...latencies),
        avg: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      },
    }),
    catalogFailures,
  };
}
