/**
 * The vocabulary of dataset definitions. A dataset is declared once (see ./datasets) and every other
 * representation — JSON schema, validators, TypeScript types, OpenAPI, Parquet, Glue and Spark schemas —
 * is derived from that declaration.
 */

/** What a producer sends for a field, and how the lake stores it. */
export type FieldKind =
  /** UTF-8 text. */
  | 'string'
  /**
   * A date-time. The API takes what pydantic's `datetime` took (ISO-8601 date or date-time, offset-less
   * meaning UTC; Unix seconds or milliseconds); Kafka carries ISO-8601 UTC with microseconds. Stored as a
   * UTC timestamp (microseconds).
   */
  | 'timestamp'
  /** As `timestamp`; documented to producers as a date (a date alone means midnight UTC). */
  | 'date_or_timestamp'
  /** A finite number (the API also takes numeric strings and booleans, as pydantic's `float`). A double. */
  | 'number'
  /**
   * A monetary amount: a finite number, accepted as `number` is. The raw zone keeps the exact float64 the producer sent
   * (DOUBLE, lossless); the curated zone stores DECIMAL(MONEY_PRECISION, MONEY_SCALE) and quarantines
   * amounts that would not fit without rounding.
   */
  | 'money'
  /**
   * A currency: any text at the API (as the replaced service); the curated zone upper-cases it and
   * quarantines codes outside ISO 4217 (./currencies.ts).
   */
  | 'currency'
  /** A free-form JSON object, stored as its JSON text. */
  | 'json';

export const MONEY_PRECISION = 18;
export const MONEY_SCALE = 4;

export interface FieldSpec {
  readonly kind: FieldKind;
  /** Required fields must be present and non-null; optional fields may be absent or null. */
  readonly required: boolean;
  readonly description: string;
  /*
   * Data-quality rules: the API accepts what the replaced service accepted; the curated zone quarantines
   * a row that breaks one of these (emitted as `x-quality` in the generated JSON schema).
   */
  /** Smallest length for strings (a record id must be non-empty). */
  readonly minLength?: number;
  /** Inclusive lower bound for numbers and money. */
  readonly minimum?: number;
  /** Known values of an enumeration-like field (producers may be ahead of us, so not an API rule). */
  readonly knownValues?: readonly string[];
  /** An example value, used by the OpenAPI document and the data generator. */
  readonly example: unknown;
  /**
   * The schemaVersion that added the field (absent: 1). The platform derives every earlier version from
   * it (./versions.ts), so that the API and the sink take records of each version during a rollout.
   */
  readonly since?: number;
}

export interface DatasetDefinition {
  /** snake_case plural, e.g. financial_transactions. Names the topic, the lake prefix and the tables. */
  readonly name: string;
  /** The record's name in the API and OpenAPI document, e.g. FinancialTransaction. */
  readonly title: string;
  /** Human name used in API messages, e.g. "Financial transaction". */
  readonly label: string;
  /** The single-record ingest route, e.g. /ingest-financial-transaction. */
  readonly route: string;
  /** The field that identifies a record; it is the Kafka message key and the curated MERGE key. */
  readonly idField: string;
  /** The field whose date and hour partition the lake. */
  readonly eventTimeField: string;
  /**
   * Bumped on any change to the fields; carried with every record (Kafka header `schema-version`). A
   * field added in a later version says so with `since`.
   */
  readonly schemaVersion: number;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /**
   * The streaming job's 1-minute tumbling windows (glue-scripts/streaming_windows.py): per window and group,
   * the count, sum, mean and 95th percentile (values beyond 3 standard deviations removed) of `measure`.
   * Absent: the dataset is not streamed.
   */
  readonly streamingWindow?: StreamingWindow;
}

export interface StreamingWindow {
  /** Fields that form a window's group (required string or currency fields, so a group is never null). */
  readonly groupBy: readonly string[];
  /** The number or money field the window aggregates. */
  readonly measure: string;
}

type ValueOf<F extends FieldSpec> = F['kind'] extends 'number' | 'money'
  ? number
  : F['kind'] extends 'json'
    ? Record<string, unknown>
    : string;

type RequiredKeys<D extends DatasetDefinition> = {
  [K in keyof D['fields']]: D['fields'][K]['required'] extends true ? K : never;
}[keyof D['fields']];
type OptionalKeys<D extends DatasetDefinition> = Exclude<keyof D['fields'], RequiredKeys<D>>;

/** The TypeScript type of a valid record of dataset D, derived from its definition. */
export type RecordOf<D extends DatasetDefinition> = {
  -readonly [K in RequiredKeys<D>]: ValueOf<D['fields'][K]>;
} & {
  -readonly [K in OptionalKeys<D>]?: ValueOf<D['fields'][K]> | null;
};
