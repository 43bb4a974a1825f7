/**
 * What Lambda's Kafka event source mapping does with one partition's records, minus Kafka itself: invoke the
 * function with batches of at most `batchSize`, commit after success, and on failure retry with exponential
 * backoff from the first record that failed (everything before it is committed first). After
 * `maxRetryAttempts` retries the failed records go to the on-failure destination and the mapping commits
 * past them, as Lambda does. Kept free of any Kafka client so the rules are unit-tested directly.
 */

/** The part of a Kafka record the delivery rules need; the consumer passes its own message type through. */
export interface Positioned {
  /** Offset as kafkajs gives it (a decimal string). */
  readonly offset: string;
}

/** What one invocation reports: complete success, or the offset of the first record to retry from. */
export type InvocationOutcome = { readonly ok: true } | { readonly ok: false; readonly retryFrom: string };

export interface DeliveryOptions<M extends Positioned> {
  readonly batchSize: number;
  /** Invokes the function with `records`; never rejects (errors become `{ok: false}` from the first record). */
  readonly invoke: (records: readonly M[]) => Promise<InvocationOutcome>;
  /**
   * Commits `nextOffset` (the offset after the last processed record), which covers `count` more records;
   * rejects if the commit failed.
   */
  readonly commit: (nextOffset: string, count: number) => Promise<void>;
  /** False once the consumer is stopping or lost the partition: leave the rest uncommitted. */
  readonly shouldContinue: () => boolean;
  /** Waits `ms` (keeping the group session alive), returning early when stopping. */
  readonly wait: (ms: number) => Promise<void>;
  readonly backoff: BackoffPolicy;
  /** Reports a failed invocation and the attempt number (1 = first retry), for logs and metrics. */
  readonly onRetry?: (attempt: number, delayMs: number, retryFrom: string) => void;
  /**
   * Retries after the first invocation before the records are given up (Lambda's `MaximumRetryAttempts`;
   * -1 = forever), and where they then go: `records` failed `invocations` times in a row. A rejection
   * (the destination is unreachable too) commits nothing: the records are retried, then offered again.
   * Without a destination the mapping retries forever: nothing is ever skipped without a record of it.
   */
  readonly onFailure?: {
    readonly maxRetryAttempts: number;
    readonly send: (records: readonly M[], invocations: number) => Promise<void>;
  };
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
}

const next = (offset: string): string => (BigInt(offset) + 1n).toString();

/**
 * Delivers `records` (one partition, ascending offsets). A record is committed only once the function
 * succeeded for it or its failure record is in the on-failure destination. Returns the number of records
 * committed (given up ones included), which is less than `records.length` only when stopping.
 */
export async function deliver<M extends Positioned>(
  records: readonly M[],
  options: DeliveryOptions<M>,
): Promise<number> {
  let committed = 0;
  let pending = records;
  let attempt = 0;
  while (pending.length > 0) {
    if (!options.shouldContinue()) return committed;
    const batch = pending.slice(0, options.batchSize);
    const outcome = await options.invoke(batch);
    const retryFrom = outcome.ok ? undefined : BigInt(outcome.retryFrom);
    const done = retryFrom === undefined ? batch : batch.filter((r) => BigInt(r.offset) < retryFrom);
    const last = done.at(-1);
    if (last) {
      await options.commit(next(last.offset), done.length);
      committed += done.length;
      pending = pending.slice(done.length);
    }
    if (retryFrom === undefined) {
      attempt = 0;
      continue;
    }
    attempt += 1;
    const { onFailure } = options;
    if (onFailure && onFailure.maxRetryAttempts >= 0 && attempt > onFailure.maxRetryAttempts) {
      const failed = batch.slice(done.length);
      const sent = await onFailure.send(failed, attempt).then(
        () => true,
        () => false,
      );
      if (sent) {
        // biome-ignore lint/style/noNonNullAssertion: a failed invocation has at least one failed record
        await options.commit(next(failed.at(-1)!.offset), failed.length);
        committed += failed.length;
        pending = pending.slice(failed.length);
        attempt = 0;
        continue;
      }
    }
    const delay = backoffDelay(options.backoff, attempt);
    options.onRetry?.(attempt, delay, String(retryFrom));
    await options.wait(delay);
  }
  return committed;
}

/**
 * Reads a sink result as Lambda's ReportBatchItemFailures does: no `batchItemFailures` (or an empty list)
 * is success; otherwise processing resumes at the lowest failed offset of this batch's partition. An
 * identifier that names no record of the batch counts as a failure of the whole batch, as in Lambda.
 * Identifiers may be `{partition, offset}` objects (the Kafka form) or `"<topic>-<partition>@<offset>"`.
 */
export function outcomeOf(
  result: unknown,
  batch: readonly (Positioned & { readonly partition: number })[],
): InvocationOutcome {
  const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return { ok: true };
  const first = batch[0];
  if (!first) return { ok: true };
  const offsets = new Set(batch.map((r) => r.offset));
  let lowest: bigint | undefined;
  for (const failure of failures) {
    const offset = failedOffset((failure as { itemIdentifier?: unknown } | null)?.itemIdentifier);
    if (offset === undefined || !offsets.has(offset)) return { ok: false, retryFrom: first.offset };
    if (lowest === undefined || BigInt(offset) < lowest) lowest = BigInt(offset);
  }
  return { ok: false, retryFrom: String(lowest ?? first.offset) };
}

function failedOffset(identifier: unknown): string | undefined {
  if (typeof identifier === 'string') return /@(\d+)$/.exec(identifier)?.[1];
  if (identifier && typeof identifier === 'object' && 'offset' in identifier) {
    const offset = String((identifier as { offset: unknown }).offset);
    return /^\d+$/.test(offset) ? offset : undefined;
  }
  return undefined;
}
