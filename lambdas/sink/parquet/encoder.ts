import type { ParquetColumn } from '../../../schemas/parquet';

/**
 * Column values handed to an encoder, one array per column in schema order, all of the same length:
 * string → string | null; double → number | null; timestamp → bigint epoch microseconds (UTC) | null;
 * int32 → number; int64 → bigint.
 */
export type ColumnValues = readonly (readonly unknown[])[];

/** Turns a batch of rows into one Parquet file. The library behind it is an implementation detail. */
export interface ParquetEncoder {
  encode(columns: readonly ParquetColumn[], values: ColumnValues): Uint8Array;
}
