import { type GlueClient, paginateGetTables } from '@aws-sdk/client-glue';
import type { S3Client } from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { getBytes, listObjects, readParquetRows } from './objects';

/**
 * Files and rows per lake zone, for `npm start`'s summary: raw Parquet (rows from each file's footer),
 * sink quarantine JSON lines (one row per line), and Delta tables (curated, gold, curated quarantine),
 * whose live files and row counts come from the transaction log's `add`/`remove` actions — a Delta
 * folder also holds files that a MERGE has since replaced — or Iceberg tables, whose current snapshot's
 * summary in the table's metadata file counts them.
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

/**
 * The live data files of every Delta table under prefix (a table is a folder with a `_delta_log/`), from
 * the transaction log's `add`/`remove` actions: table → file path (relative to the table) → rows.
 */
export async function deltaLiveFiles(
  s3: S3Client,
  bucket: string,
  prefix = '',
): Promise<Map<string, Map<string, number>>> {
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
        live.set(decodeURIComponent(action.add.path), stats.numRecords ?? 0);
      }
      if (action.remove) live.delete(decodeURIComponent(action.remove.path));
    }
  }
  return tables;
}

/** Sums the live files and rows of every Delta table under prefix. */
export async function countDelta(
  s3: S3Client,
  bucket: string,
  prefix = '',
): Promise<ZoneCount & { tables: string[] }> {
  const tables = await deltaLiveFiles(s3, bucket, prefix);
  let files = 0;
  let rows = 0;
  for (const live of tables.values()) {
    files += live.size;
    for (const n of live.values()) rows += n;
  }
  return { files, rows, tables: [...tables.keys()] };
}

/** One column of every live row of the Delta table at `table` (a key prefix without trailing slash). */
export async function readDeltaColumn(
  s3: S3Client,
  bucket: string,
  table: string,
  column: string,
): Promise<unknown[]> {
  const live = (await deltaLiveFiles(s3, bucket, `${table}/`)).get(table) ?? new Map<string, number>();
  const values: unknown[] = [];
  for (const path of live.keys()) {
    for (const row of await readParquetRows(s3, bucket, `${table}/${path}`, [column]))
      values.push(row[column]);
  }
  return values;
}

/** `s3://bucket/key` → bucket and key. */
function splitS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: match[1] as string, key: match[2] as string };
}

interface IcebergMetadata {
  'current-snapshot-id'?: number | null;
  snapshots?: { 'snapshot-id': number; summary?: Record<string, string> }[];
}

/**
 * Sums the live files and rows of the Iceberg tables of the Glue database located under
 * `s3://bucket/prefix`: each table's current metadata file (its `metadata_location`) and, in it, the
 * current snapshot's `total-data-files` and `total-records`.
 */
export async function countIceberg(
  s3: S3Client,
  glue: GlueClient,
  database: string,
  bucket: string,
  prefix = '',
): Promise<ZoneCount & { tables: string[] }> {
  const under = `s3://${bucket}/${prefix}`;
  let files = 0;
  let rows = 0;
  const tables: string[] = [];
  for await (const page of paginateGetTables({ client: glue }, { DatabaseName: database })) {
    for (const table of page.TableList ?? []) {
      const parameters = table.Parameters ?? {};
      const location = table.StorageDescriptor?.Location ?? '';
      const metadata = parameters.metadata_location;
      if (parameters.table_type?.toUpperCase() !== 'ICEBERG' || !metadata || !location.startsWith(under))
        continue;
      const { bucket: mb, key } = splitS3Uri(metadata);
      const text = Buffer.from(await getBytes(s3, mb, key)).toString('utf8');
      const meta = JSON.parse(text) as IcebergMetadata;
      const current = meta.snapshots?.find((x) => x['snapshot-id'] === meta['current-snapshot-id']);
      files += Number(current?.summary?.['total-data-files'] ?? 0);
      rows += Number(current?.summary?.['total-records'] ?? 0);
      tables.push(table.Name ?? '');
    }
  }
  return { files, rows, tables: tables.sort() };
}
