import { LATE_HOUR, type LogicalType, RAW_PARTITION_COLUMNS, rawColumns } from './lake-columns';
import type { DatasetDefinition } from './types';

/** Glue (Hive) column types of the raw zone, mapped from the same logical types as Parquet and Spark. */
export type GlueType = 'string' | 'double' | 'timestamp' | 'int' | 'bigint';

const GLUE_TYPE: Record<LogicalType, GlueType> = {
  string: 'string',
  double: 'double',
  timestamp: 'timestamp',
  int32: 'int',
  int64: 'bigint',
};

export interface GlueColumn {
  readonly name: string;
  readonly type: GlueType;
  readonly comment: string;
}

/** The raw table's data columns (partition keys excluded). */
export function glueRawColumns(def: DatasetDefinition): GlueColumn[] {
  return rawColumns(def).map((c) => ({ name: c.name, type: GLUE_TYPE[c.type], comment: c.comment }));
}

/** The raw table's partition keys, kept as strings exactly as they appear in the Hive path. */
export const GLUE_RAW_PARTITION_KEYS: readonly GlueColumn[] = RAW_PARTITION_COLUMNS.map((name) => ({
  name,
  type: 'string',
  comment: name === 'event_date' ? 'UTC date of the event, YYYY-MM-DD.' : 'UTC hour of the event, HH.',
}));

/** First day that partition projection enumerates (raw and quarantine tables). */
export const PROJECTION_START = '2020-01-01';

/**
 * The raw table of a dataset (Parquet, Hive-partitioned, with partition projection), in the camelCase
 * shape of CloudFormation's TableInput. CDK declares it; the local platform creates the same in moto.
 */
export function rawTableInput(def: DatasetDefinition, name: string, location: string) {
  return {
    name,
    tableType: 'EXTERNAL_TABLE',
    description: `${def.title} records as written by the sink (Parquet).`,
    partitionKeys: [...GLUE_RAW_PARTITION_KEYS],
    parameters: {
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'parquet.compression': 'SNAPPY',
      'projection.enabled': 'true',
      'projection.event_date.type': 'date',
      'projection.event_date.format': 'yyyy-MM-dd',
      'projection.event_date.range': `${PROJECTION_START},NOW`,
      'projection.event_date.interval': '1',
      'projection.event_date.interval.unit': 'DAYS',
      // 00..23, and the late files of batches whose records spread over many hours (LATE_HOUR).
      'projection.event_hour.type': 'enum',
      'projection.event_hour.values': [
        ...Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')),
        LATE_HOUR,
      ].join(','),
      'storage.location.template': `${location}/event_date=\${event_date}/event_hour=\${event_hour}`,
    },
    storageDescriptor: {
      location,
      columns: glueRawColumns(def),
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  };
}
