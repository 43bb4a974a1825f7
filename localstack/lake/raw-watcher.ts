import type { S3Client } from '@aws-sdk/client-s3';
import type { DatasetDefinition } from '../../schemas';
import { listObjects, readParquetRows } from './objects';

/**
 * Watches the raw bucket and remembers when each Parquet object (each version of it, by ETag) first
 * became visible. That is what accept-to-Parquet latency is measured against, the same way by
 * `npm start`'s summary, the e2e bench and the tests:
 *
 *   latency(record) = visibleAt(raw object holding the record) − _ingest_time(record)
 *
 * `_ingest_time` is the instant the ingest handler accepted the record (written into the row by the sink);
 * `visibleAt` is the first listing in which the object appeared, polled every `intervalMs` (100 ms by
 * default), so a latency is over-estimated by at most one interval plus one listing. S3's LastModified
 * cannot serve: it has one-second resolution.
 */

export interface RawRow {
  readonly dataset: string;
  readonly id: string;
  /** Epoch ms the API accepted the record. */
  readonly ingestTime: number;
  /** Epoch ms the object was first seen. */
  readonly visibleAt: number;
  readonly key: string;
}

export class RawZoneWatcher {
  private readonly seen = new Map<string, number>();
  private readonly current = new Map<string, string>();
  private readonly cache = new Map<string, RawRow[]>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly datasets: readonly DatasetDefinition[],
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    const tick = () => {
      this.polling = this.poll()
        .catch(() => {}) // a failed listing is retried on the next tick
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One listing of every dataset's prefix; records first sightings. */
  async poll(): Promise<void> {
    const now = Date.now();
    for (const dataset of this.datasets) {
      for (const object of await listObjects(this.s3, this.bucket, `${dataset.name}/`)) {
        if (!object.key.endsWith('.parquet')) continue;
        const version = `${object.key}@${object.etag}`;
        if (!this.seen.has(version)) this.seen.set(version, now);
        this.current.set(object.key, version);
      }
    }
  }

  /** Objects seen so far (their current versions). */
  get objectCount(): number {
    return this.current.size;
  }

  /**
   * Every row of the raw objects seen so far, read once per object version. Call `poll()` first for an
   * up-to-date view (the timer does so while started).
   */
  async rows(): Promise<RawRow[]> {
    const byName = new Map(this.datasets.map((d) => [d.name, d]));
    const all: RawRow[] = [];
    for (const [key, version] of this.current) {
      let rows = this.cache.get(version);
      if (!rows) {
        const dataset = byName.get(key.slice(0, key.indexOf('/'))) as DatasetDefinition;
        const visibleAt = this.seen.get(version) as number;
        const objects = await readParquetRows(this.s3, this.bucket, key, [dataset.idField, '_ingest_time']);
        rows = objects.map((o) => ({
          dataset: dataset.name,
          id: String(o[dataset.idField]),
          ingestTime: (o._ingest_time as Date).getTime(),
          visibleAt,
          key,
        }));
        this.cache.set(version, rows);
      }
      all.push(...rows);
    }
    return all;
  }
}

/** The p-th percentile (0..100) of values, nearest-rank; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function latenciesMs(rows: readonly RawRow[]): number[] {
  return rows.map((r) => r.visibleAt - r.ingestTime);
}
