import type { S3Client } from '@aws-sdk/client-s3';
import type { DatasetDefinition } from '../../../schemas';
import { listObjects, readParquetRows } from './objects';

/**
 * The raw zone as the tests, `npm start` and the bench check it: which record ids are in raw Parquet, and
 * in which object. Each object version (by ETag) is read once, so polling while waiting stays cheap.
 */

export interface RawRow {
  readonly dataset: string;
  readonly id: string;
  readonly key: string;
}

export class RawZone {
  /** key → current version (`key@etag`) */
  private readonly current = new Map<string, string>();
  private readonly cache = new Map<string, RawRow[]>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly datasets: readonly DatasetDefinition[],
  ) {}

  /** Lists every dataset's prefix; a retried batch that overwrote its object shows as a new version. */
  async poll(): Promise<void> {
    const current = new Map<string, string>();
    for (const dataset of this.datasets) {
      for (const object of await listObjects(this.s3, this.bucket, `${dataset.name}/`)) {
        if (object.key.endsWith('.parquet')) current.set(object.key, `${object.key}@${object.etag}`);
      }
    }
    this.current.clear();
    for (const [key, version] of current) this.current.set(key, version);
  }

  /** Objects seen so far (their current versions). */
  get objectCount(): number {
    return this.current.size;
  }

  /** Every row of the raw objects as of the last `poll()`, each object version read once. */
  async rows(): Promise<RawRow[]> {
    const byName = new Map(this.datasets.map((d) => [d.name, d]));
    const all: RawRow[] = [];
    for (const [key, version] of this.current) {
      let rows = this.cache.get(version);
      if (!rows) {
        const dataset = byName.get(key.slice(0, key.indexOf('/'))) as DatasetDefinition;
        const objects = await readParquetRows(this.s3, this.bucket, key, [dataset.idField]);
        rows = objects.map((o) => ({ dataset: dataset.name, id: String(o[dataset.idField]), key }));
        this.cache.set(version, rows);
      }
      all.push(...rows);
    }
    return all;
  }
}
