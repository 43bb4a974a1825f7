import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ColumnValues, ParquetEncoder } from './encoder';

/**
 * hyparquet-writer: pure JavaScript, snappy and dictionary encoding, the fastest and smallest of the
 * libraries measured by `npm run bench:sink`. A sink file is at most one Lambda batch (≤ 10,000 rows),
 * so it is one row group; readers still split on files.
 */
export const hyparquetEncoder: ParquetEncoder = {
  encode(columns, values: ColumnValues) {
    const buffer = parquetWriteBuffer({
      columnData: columns.map(({ element }, i) => ({
        name: element.name,
        data: values[i] as unknown[],
        nullable: element.repetition_type === 'OPTIONAL',
        // INT64 columns are instants and offsets that mostly increase: deltas pack into a few bits each.
        ...(element.type === 'INT64' && { encoding: 'DELTA_BINARY_PACKED' as const }),
      })),
      schema: [
        { name: 'root', num_children: columns.length },
        ...columns.map(({ element }) => ({ ...element })),
      ],
      codec: 'SNAPPY',
      rowGroupSize: 100_000,
      createdBy: 'streaming-lakehouse sink (hyparquet-writer)',
    });
    return new Uint8Array(buffer);
  },
};
