import { batchRouteOf } from '../../../schemas/api/openapi';
import { type GeneratedRecord, RecordFactory, type RecordFactoryOptions } from './records';

/**
 * Sends generated records to the ingest API at a target rate, through the batch route (many records per
 * request) or the single-record route, and tallies what the API answered per record.
 */

export interface SendOptions extends Partial<RecordFactoryOptions> {
  readonly apiUrl: string;
  /** Records per second across all requests. */
  readonly rate: number;
  readonly count: number;
  /** 'mixed' sends a share of the records (singleShare) one per request and the rest in batches. */
  readonly route: 'batch' | 'single' | 'mixed';
  /** Records per batch request (at most the API's maxBatchRecords). */
  readonly batchSize: number;
  /** With route 'mixed': the share of records sent through the single-record route (default 0.5). */
  readonly singleShare?: number;
  /** Datasets to send, in turn; default: every dataset of the registry. */
  readonly datasets?: readonly string[];
  /** Requests in flight at most. */
  readonly concurrency?: number;
  /**
   * Retries of a request answered 429/502/503/504 or not answered at all, with exponential backoff from
   * 200 ms, as a well-behaved producer does (default 5). A retried record may reach the raw zone twice
   * (the first attempt can have been written before the answer was lost): the raw zone is at-least-once.
   */
  readonly retries?: number;
  /** Upper bound of the backoff between retries (default: none, it doubles every time). */
  readonly maxBackoffMs?: number;
  /** Every answer as it arrives (HTTP status or 'network-error'), e.g. to time a recovery. */
  readonly onAnswer?: (status: string, at: number) => void;
  /** Called about four times a second and at the end. */
  readonly onProgress?: (tally: SendTally) => void;
}

export interface DatasetTally {
  sent: number;
  accepted: number;
  rejected: number;
  /** Records of requests that got no per-record answer (5xx, network error): not known to be accepted. */
  failed: number;
  /** Accepted duplicates: the raw zone keeps them, the curated zone merges them away. */
  duplicates: number;
  /** Ids the API accepted, in order (duplicates included). */
  acceptedIds: string[];
  /** Ids of records the API rejected as invalid (those that had one). */
  rejectedIds: string[];
  /** Ids of records whose request was retried before it got its answer (they may be in raw twice). */
  retriedIds: string[];
}

export interface SendTally {
  readonly byDataset: Record<string, DatasetTally>;
  sent: number;
  accepted: number;
  rejected: number;
  failed: number;
  requests: number;
  /** Requests sent again after a retryable answer. */
  retried: number;
  /** HTTP status → requests. */
  readonly statuses: Record<string, number>;
  readonly startedAt: number;
  elapsedMs: number;
}

const RETRYABLE = new Set(['429', '502', '503', '504', 'network-error']);

interface RecordResult {
  readonly index: number;
  readonly status: 'accepted' | 'rejected';
}

export async function sendRecords(options: SendOptions): Promise<SendTally> {
  const factory = new RecordFactory({
    invalidShare: options.invalidShare ?? 0,
    duplicateShare: options.duplicateShare ?? 0,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
  });
  const datasets = options.datasets ?? factory.datasets.map((d) => d.definition.name);
  const routes = new Map(
    factory.datasets.map((d) => [
      d.definition.name,
      { single: d.definition.route, batch: batchRouteOf(d.definition) },
    ]),
  );
  const singleShare = { batch: 0, single: 1, mixed: options.singleShare ?? 0.5 }[options.route];
  // Which route the next request takes: deterministic, so the mixture holds for short runs too.
  let singleRecords = 0;
  const nextRoute = (scheduled: number): 'single' | 'batch' =>
    singleRecords < singleShare * (scheduled + 1) ? 'single' : 'batch';
  const tally: SendTally = {
    byDataset: Object.fromEntries(
      datasets.map((d) => [
        d,
        {
          sent: 0,
          accepted: 0,
          rejected: 0,
          failed: 0,
          duplicates: 0,
          acceptedIds: [],
          rejectedIds: [],
          retriedIds: [],
        },
      ]),
    ),
    sent: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
    requests: 0,
    retried: 0,
    statuses: {},
    startedAt: Date.now(),
    elapsedMs: 0,
  };

  const concurrency = options.concurrency ?? 32;
  const inFlight = new Set<Promise<void>>();
  const progress = setInterval(() => {
    tally.elapsedMs = Date.now() - tally.startedAt;
    options.onProgress?.(tally);
  }, 250);

  try {
    let scheduled = 0;
    let turn = 0;
    while (scheduled < options.count) {
      // Pace by records, like a batching producer: a request leaves once its last record is due.
      const route = nextRoute(scheduled);
      const size = route === 'single' ? 1 : Math.min(options.batchSize, options.count - scheduled);
      if (route === 'single') singleRecords += 1;
      const due = tally.startedAt + ((scheduled + size) / options.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const dataset = datasets[turn % datasets.length] as string;
      turn += 1;
      const records = Array.from({ length: size }, () => factory.next(dataset));
      scheduled += size;
      const request = post(dataset, route, records).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(progress);
    tally.elapsedMs = Date.now() - tally.startedAt;
    options.onProgress?.(tally);
  }
  return tally;

  async function post(dataset: string, route: 'single' | 'batch', records: GeneratedRecord[]): Promise<void> {
    const body = route === 'batch' ? { records: records.map((r) => r.body) } : records[0]?.body;
    const path = routes.get(dataset)?.[route];
    const counts = tally.byDataset[dataset] as DatasetTally;
    counts.sent += records.length;
    tally.sent += records.length;
    const retries = options.retries ?? 5;
    let results: readonly RecordResult[] | undefined;
    let retried = false;
    for (let attempt = 0; ; attempt += 1) {
      let status = 'network-error';
      try {
        const response = await fetch(`${options.apiUrl}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        status = String(response.status);
        const text = await response.text();
        results = perRecordResults(response.status, text, records.length, route);
      } catch {
        results = undefined;
      }
      options.onAnswer?.(status, Date.now());
      tally.requests += 1;
      tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
      if (results || attempt >= retries || !RETRYABLE.has(status)) break;
      tally.retried += 1;
      retried = true;
      const backoff = 200 * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, options.maxBackoffMs ?? backoff)));
    }
    if (!results) {
      counts.failed += records.length;
      tally.failed += records.length;
      return;
    }
    for (const result of results) {
      const record = records[result.index] as GeneratedRecord;
      if (retried && record.id !== undefined) counts.retriedIds.push(record.id);
      if (result.status === 'accepted') {
        counts.accepted += 1;
        tally.accepted += 1;
        if (record.kind === 'duplicate') counts.duplicates += 1;
        if (record.id !== undefined) counts.acceptedIds.push(record.id);
      } else {
        counts.rejected += 1;
        tally.rejected += 1;
        if (record.id !== undefined) counts.rejectedIds.push(record.id);
      }
    }
  }
}

/** Reads the API's answer per record: batch `results[]`, or the single route's 200 / 422. */
function perRecordResults(
  status: number,
  text: string,
  size: number,
  route: 'batch' | 'single',
): readonly RecordResult[] | undefined {
  if (route === 'single') {
    if (status === 200) return [{ index: 0, status: 'accepted' }];
    if (status === 422) return [{ index: 0, status: 'rejected' }];
    return undefined;
  }
  if (status !== 200 && status !== 207 && status !== 422) return undefined;
  const results = (JSON.parse(text) as { results?: RecordResult[] }).results;
  return Array.isArray(results) && results.length === size ? results : undefined;
}

/** One progress line, e.g. for a `\r`-refreshed status on stderr. */
export function progressLine(tally: SendTally, total: number): string {
  const seconds = tally.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(tally.sent / seconds) : 0;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return (
    `sent ${fmt(tally.sent)}/${fmt(total)} · accepted ${fmt(tally.accepted)} · rejected ${fmt(tally.rejected)}` +
    `${tally.failed ? ` · FAILED ${fmt(tally.failed)}` : ''}${tally.retried ? ` · ${fmt(tally.retried)} requests retried` : ''}` +
    ` · ${fmt(rate)} rec/s · ${seconds.toFixed(1)} s`
  );
}
