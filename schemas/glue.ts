import { type LogicalType, RAW_PARTITION_COLUMNS, rawColumns } from './lake-columns';
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
