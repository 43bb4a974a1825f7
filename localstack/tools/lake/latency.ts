/**
 * Accept-to-Parquet latency, defined once for `npm start`'s summary, `npm run bench:e2e` and /metrics:
 *
 *   latency(record) = the moment the sink invocation that wrote the record returned successfully (every
 *                     Parquet object of the batch is written to S3 by then)
 *                   − the record's `_ingest_time` (stamped by the ingest handler when it accepted it).
 *
 * The local event source mapping measures it for every record it commits, on the same host clock the
 * ingest handler used. S3's LastModified cannot serve: it has one-second resolution. Values are kept in
 * 10 ms buckets, which is the resolution of the reported percentiles.
 */
import type { ConsumedMessage } from '../../../lambdas/sink/msk-event';
import { INGEST_HEADERS } from '../../../schemas';

export const LATENCY_BUCKET_MS = 10;

export interface LatencySnapshot {
  /** bucket index (latency / 10 ms, floored) → records */
  readonly buckets: Readonly<Record<number, number>>;
  readonly count: number;
  /** Earliest `_ingest_time` and latest write completion seen, epoch ms (for throughput). */
  readonly firstAcceptMs: number;
  readonly lastWrittenMs: number;
}

export class LatencyHistogram {
  private buckets = new Map<number, number>();
  private total = 0;
  private firstAccept = Number.POSITIVE_INFINITY;
  private lastWritten = Number.NEGATIVE_INFINITY;

  add(latencyMs: number, acceptMs: number, writtenMs: number): void {
    this.addBucket(Math.max(0, Math.floor(latencyMs / LATENCY_BUCKET_MS)), 1);
    this.firstAccept = Math.min(this.firstAccept, acceptMs);
    this.lastWritten = Math.max(this.lastWritten, writtenMs);
  }

  merge(snapshot: LatencySnapshot): void {
    for (const [bucket, n] of Object.entries(snapshot.buckets)) this.addBucket(Number(bucket), n);
    this.firstAccept = Math.min(this.firstAccept, snapshot.firstAcceptMs);
    this.lastWritten = Math.max(this.lastWritten, snapshot.lastWrittenMs);
  }

  private addBucket(bucket: number, n: number): void {
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + n);
    this.total += n;
  }

  get count(): number {
    return this.total;
  }

  snapshot(): LatencySnapshot {
    return {
      buckets: Object.fromEntries(this.buckets),
      count: this.total,
      firstAcceptMs: this.firstAccept,
      lastWrittenMs: this.lastWritten,
    };
  }

  /** Empties the histogram and returns what it held. */
  drain(): LatencySnapshot {
    const snapshot = this.snapshot();
    this.buckets = new Map();
    this.total = 0;
    this.firstAccept = Number.POSITIVE_INFINITY;
    this.lastWritten = Number.NEGATIVE_INFINITY;
    return snapshot;
  }
}

/** The p-th percentile (0..100, nearest rank) in ms, as the upper edge of its 10 ms bucket. */
export function latencyPercentile(snapshot: LatencySnapshot, p: number): number | undefined {
  if (snapshot.count === 0) return undefined;
  const rank = Math.min(snapshot.count, Math.max(1, Math.ceil((p / 100) * snapshot.count)));
  let seen = 0;
  for (const bucket of Object.keys(snapshot.buckets)
    .map(Number)
    .sort((a, b) => a - b)) {
    seen += snapshot.buckets[bucket] ?? 0;
    if (seen >= rank) return (bucket + 1) * LATENCY_BUCKET_MS;
  }
  return undefined;
}

/**
 * Records per second from the first accept to the last write of the snapshot. `records` defaults to the
 * records written; pass the distinct records accepted when retried requests wrote some twice.
 */
export function throughput(snapshot: LatencySnapshot, records = snapshot.count): number {
  const span = snapshot.lastWrittenMs - snapshot.firstAcceptMs;
  return records > 0 && span > 0 ? (records / span) * 1000 : 0;
}

/** The ingest time a record's `ingest-time` header carries (schemas/envelope.ts), epoch ms. */
export function ingestTimeMs(headers: ConsumedMessage['headers']): number | undefined {
  const value = headers?.[INGEST_HEADERS.ingestTime];
  const text = Array.isArray(value) ? value.at(-1) : value;
  // The ingest handler writes toISOString(): always UTC with a Z.
  const ms = text === undefined ? Number.NaN : Date.parse(Buffer.from(text).toString('utf8'));
  return Number.isFinite(ms) ? ms : undefined;
}
