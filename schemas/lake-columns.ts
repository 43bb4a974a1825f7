import type { DatasetDefinition, FieldKind } from './types';

/**
 * The columns of a dataset's raw-zone Parquet files: the record's fields followed by the ingest metadata
 * and the Kafka coordinates. Parquet (sink), Glue (CDK) and Spark (glue-scripts) types all map from the
 * logical types below, so the three can never disagree.
 */
export type LogicalType = 'string' | 'double' | 'timestamp' | 'int32' | 'int64';

export interface LakeColumn {
  readonly name: string;
  readonly type: LogicalType;
  readonly nullable: boolean;
  /** Where the value comes from: a record field, or one of the metadata columns. */
  readonly source: 'field' | 'metadata';
  readonly comment: string;
}

const LOGICAL_TYPE: Record<FieldKind, LogicalType> = {
  string: 'string',
  currency: 'string',
  timestamp: 'timestamp',
  date_or_timestamp: 'timestamp',
  number: 'double',
  money: 'double',
  json: 'string',
};

/** Metadata columns, prefixed so they can never clash with a record field. */
export const METADATA_COLUMNS: readonly LakeColumn[] = [
  {
    name: '_ingest_time',
    type: 'timestamp',
    nullable: false,
    source: 'metadata',
    comment: 'When the API accepted the record (UTC).',
  },
  {
    name: '_request_id',
    type: 'string',
    nullable: false,
    source: 'metadata',
    comment: 'API request that carried the record.',
  },
  {
    name: '_schema_version',
    type: 'int32',
    nullable: false,
    source: 'metadata',
    comment: 'Dataset schema version.',
  },
  { name: '_kafka_topic', type: 'string', nullable: false, source: 'metadata', comment: 'Kafka topic.' },
  {
    name: '_kafka_partition',
    type: 'int32',
    nullable: false,
    source: 'metadata',
    comment: 'Kafka partition.',
  },
  { name: '_kafka_offset', type: 'int64', nullable: false, source: 'metadata', comment: 'Kafka offset.' },
  {
    name: '_kafka_timestamp',
    type: 'timestamp',
    nullable: false,
    source: 'metadata',
    comment: 'Kafka record timestamp (UTC).',
  },
];

/** Hive partition columns of the raw zone, in path order: `event_date=YYYY-MM-DD/event_hour=HH`. */
export const RAW_PARTITION_COLUMNS = ['event_date', 'event_hour'] as const;

/**
 * The hour partition value of a batch's late file. A batch writes at most `maxHourFiles` hour files per
 * topic-partition: the first distinct event hours in offset order. The records of any further hour (late
 * or far-spread ones) go together into one file in `event_date=<UTC date of the first such record's KAFKA
 * timestamp>/event_hour=late/`: its rows carry their own event times, and the date is the arrival date so
 * that a reader looking back a few days by partition date still finds late data. Deciding in offset order
 * makes the choice depend only on the records before it, so a retry from the same offset, however long,
 * writes every record to the same file name again.
 */
export const LATE_HOUR = 'late';

export function rawColumns(dataset: DatasetDefinition): LakeColumn[] {
  const fields: LakeColumn[] = Object.entries(dataset.fields).map(([name, f]) => ({
    name,
    type: LOGICAL_TYPE[f.kind],
    nullable: !f.required,
    source: 'field',
    comment: f.description,
  }));
  return [...fields, ...METADATA_COLUMNS];
}
