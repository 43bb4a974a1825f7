import { type KafkaMessage, type KafkaProducer, KafkaUnavailableError, messageBytes } from './producer';

export interface CoalescingOptions {
  /** Upper bound on one combined send (UTF-8 bytes of keys, values and headers): stays below message.max.bytes. */
  readonly maxBytes: number;
  /** How long a caller waits, queueing included, before it gets KafkaUnavailableError. */
  readonly deadlineMs: number;
}

const timedOut = (topic: string, p: Pending) =>
  new KafkaUnavailableError(`produce to ${topic} timed out after ${p.timeoutMs} ms`);

interface Pending {
  readonly topic: string;
  readonly messages: readonly KafkaMessage[];
  readonly bytes: number;
  readonly timeoutMs: number;
  /** Epoch ms by which the caller is answered. */
  readonly deadline: number;
  /** Handed to the inner producer: from then on only its answer settles this caller. */
  sending: boolean;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Keeps one send in flight and combines the sends that arrive meanwhile into the next one ("natural
 * batching": no linger, so an idle producer adds no latency). A Lambda instance serves one request at a
 * time and never queues; a process serving many requests at once (the local API, the benchmark) turns N
 * concurrent single-record requests into one produce request per round trip.
 * A caller's messages are never split across sends, so its acknowledgement stays all-or-nothing. A caller
 * still queued at its deadline is dropped, never sent; a send in flight gets the earliest deadline of the
 * callers it carries, so the inner producer abandons it (and tears down) exactly when the first of them
 * is answered, and nothing goes on being sent for a caller who already has a 503.
 */
export function coalescingProducer(inner: KafkaProducer, options: CoalescingOptions): KafkaProducer {
  let queue: Pending[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    draining = true;
    while (queue.length > 0) {
      const take: Pending[] = [];
      let bytes = 0;
      while (queue.length > 0) {
        const next = queue[0] as Pending;
        if (take.length > 0 && bytes + next.bytes > options.maxBytes) break;
        take.push(next);
        bytes += next.bytes;
        queue.shift();
      }
      const byTopic = new Map<string, Pending[]>();
      for (const p of take) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
      for (const [topic, all] of byTopic) {
        // A caller may have timed out behind another topic, or be about to: never send for those.
        for (const e of all) if (e.deadline <= Date.now()) e.reject(timedOut(topic, e));
        const entries = all.filter((e) => !e.settled);
        if (entries.length === 0) continue;
        for (const e of entries) e.sending = true;
        const deadline = Math.min(...entries.map((e) => e.deadline));
        try {
          await inner.send(
            topic,
            entries.flatMap((e) => e.messages),
            Math.max(1, deadline - Date.now()),
          );
          for (const e of entries) e.resolve();
        } catch (error) {
          for (const e of entries) e.reject(error);
        }
      }
    }
    draining = false;
  }

  return {
    send(topic, messages, timeoutMs = options.deadlineMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (pending.sending) return; // the inner send answers by this deadline
          queue = queue.filter((p) => p !== pending);
          pending.reject(timedOut(topic, pending));
        }, timeoutMs);
        const settle = (action: () => void) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(timer);
          action();
        };
        const pending: Pending = {
          topic,
          messages,
          timeoutMs,
          bytes: messages.reduce((sum, m) => sum + messageBytes(m), 0),
          deadline: Date.now() + timeoutMs,
          sending: false,
          settled: false,
          resolve: () => settle(resolve),
          reject: (error) => settle(() => reject(error)),
        };
        queue.push(pending);
        if (!draining) void drain();
      });
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}
