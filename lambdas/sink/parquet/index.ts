/** The sink's Parquet encoding: the encoder interface (encoder.ts) and the one implementation in use. */
export type { ColumnValues, ParquetEncoder } from './encoder';
export { hyparquetEncoder } from './hyparquet';
