import type { S3Client } from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { getBytes, listObjects } from './objects';

/**
 * Files and rows per lake zone, for `npm start`'s summary: raw Parquet (rows from each file's footer),
 * sink quarantine JSON lines (one row per line), and Delta tables (curated, gold, curated quarantine),
 * whose live files and row counts come from the transaction log's `add`/`remove` actions — a Delta
 * folder also holds files that a MERGE has since replaced.
 */

export interface ZoneCount {
  files: number;
  rows: number;
}

export async function countParquet(s3: S3Client, bucket: string, prefix = ''): Promise<ZoneCount> {
  const objects = (await listObjects(s3, bucket, prefix)).filter((o) => o.key.endsWith('.parquet'));
  let rows = 0;
  for (const o of objects) {
    const bytes = await getBytes(s3, bucket, o.key);
    rows += Number(
      parquetMetadata(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      ).num_rows,
    );
  }
  return { files: objects.length, rows };
}

export async function countJsonLines(s3: S3Client, bucket: string, prefix: string): Promise<ZoneCount> {
  const objects = (await listObjects(s3, bucket, prefix)).filter((o) => o.key.endsWith('.jsonl'));
  let rows = 0;
  for (const o of objects) {
    const text = Buffer.from(await getBytes(s3, bucket, o.key)).toString('utf8');
    rows += text.split('\n').filter((line) => line.trim().length > 0).length;
  }
  return { files: objects.length, rows };
}

/** Sums the live files of every Delta table under prefix (a table is a folder with a `_delta_log/`). */
export async function countDelta(
  s3: S3Client,
  bucket: string,
  prefix = '',
): Promise<ZoneCount & { tables: string[] }> {
  const commits = (await listObjects(s3, bucket, prefix))
    .filter((o) => /\/_delta_log\/\d{20}\.json$/.test(o.key))
    .sort((a, b) => a.key.localeCompare(b.key));
  const tables = new Map<string, Map<string, number>>();
  for (const commit of commits) {
    const table = commit.key.slice(0, commit.key.indexOf('/_delta_log/'));
    const live = tables.get(table) ?? new Map<string, number>();
    tables.set(table, live);
    const text = Buffer.from(await getBytes(s3, bucket, commit.key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const action = JSON.parse(line) as {
        add?: { path: string; stats?: string };
        remove?: { path: string };
      };
      if (action.add) {
        const stats = action.add.stats ? (JSON.parse(action.add.stats) as { numRecords?: number }) : {};
        live.set(action.add.path, stats.numRecords ?? 0);
      }
      if (action.remove) live.delete(action.remove.path);
    }
  }
  let files = 0;
  let rows = 0;
  for (const live of tables.values()) {
    files += live.size;
    for (const n of live.values()) rows += n;
  }
  return { files, rows, tables: [...tables.keys()] };
}
