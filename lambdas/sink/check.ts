import {
  type DatasetDefinition,
  type DatasetRegistry,
  type FieldError,
  type FieldKind,
  INGEST_HEADERS,
  parseDateOrTimestampMicros,
  parseTimestampMicros,
  type RegisteredDataset,
} from '../../schemas';

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
export interface ValidRow {
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

export const TIMESTAMP_PARSERS: Partial<Record<FieldKind, (text: string) => bigint | undefined>> = {
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

/** A batch's records sorted into those that go to the raw zone and those that go to quarantine, with why. */
export function checkBatch(
  records: readonly KafkaRecord[],
  registry: DatasetRegistry,
): { valid: { dataset: DatasetDefinition; row: ValidRow }[]; rejected: QuarantineLine[] } {
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
  return { valid, rejected };
}
