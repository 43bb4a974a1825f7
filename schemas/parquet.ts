import { type LakeColumn, type LogicalType, rawColumns } from './lake-columns';
import type { DatasetDefinition } from './types';

/**
 * The raw zone's Parquet schema, derived from `rawColumns`. Elements use the field names of the Parquet
 * format's own `SchemaElement` (parquet.thrift), so no writer library's vocabulary leaks into the contract.
 */
export interface ParquetSchemaElement {
  readonly name: string;
  readonly type: 'BYTE_ARRAY' | 'DOUBLE' | 'INT32' | 'INT64';
  readonly repetition_type: 'REQUIRED' | 'OPTIONAL';
  /** Legacy annotation, kept beside the logical type for readers that predate logical types. */
  readonly converted_type?: 'UTF8' | 'TIMESTAMP_MICROS';
  readonly logical_type?:
    | { readonly type: 'STRING' }
    | { readonly type: 'TIMESTAMP'; readonly isAdjustedToUTC: true; readonly unit: 'MICROS' };
}

export interface ParquetColumn {
  readonly column: LakeColumn;
  readonly element: ParquetSchemaElement;
}

const PHYSICAL: Record<LogicalType, Omit<ParquetSchemaElement, 'name' | 'repetition_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  double: { type: 'DOUBLE' },
  // UTC instants with microseconds: what producers send, and what Spark and DuckDB call TIMESTAMP(TZ).
  timestamp: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MICROS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
  },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
};

export function parquetColumn(column: LakeColumn): ParquetColumn {
  return {
    column,
    element: {
      name: column.name,
      repetition_type: column.nullable ? 'OPTIONAL' : 'REQUIRED',
      ...PHYSICAL[column.type],
    },
  };
}

/** The Parquet columns of a dataset's raw files, in file order. */
export function rawParquetSchema(dataset: DatasetDefinition): ParquetColumn[] {
  return rawColumns(dataset).map(parquetColumn);
}
