import { type KafkaMessage, type KafkaProducer, KafkaUnavailableError } from './producer';

export interface CoalescingOptions {
  /** Upper bound on one combined send (key and value characters): stays below message.max.bytes (1 MiB). */
  readonly maxBytes: number;
  /** How long a caller waits, queueing included, before it gets KafkaUnavailableError. */
  readonly deadlineMs: number;
}

interface Pending {
  readonly topic: string;
  readonly messages: readonly KafkaMessage[];
  readonly bytes: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Keeps one send in flight and combines the sends that arrive meanwhile into the next one ("natural
 * batching": no linger, so an idle producer adds no latency). A Lambda instance serves one request at a
 * time and never queues; a process serving many requests at once (the local API, the benchmark) turns N
 * concurrent single-record requests into one produce request per round trip. It also keeps idempotent
 * producers to one in-flight request per partition, which kafkajs needs for throughput and
 * @platformatic/kafka for correctness (concurrent sends fail with OUT_OF_ORDER_SEQUENCE_NUMBER).
 * A caller's messages are never split across sends, so its acknowledgement stays all-or-nothing.
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
      for (const [topic, entries] of byTopic) {
        try {
          await inner.send(
            topic,
            entries.flatMap((e) => e.messages),
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
    send(topic, messages) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          // Still queued means never sent: drop it. In flight means unknown: the caller retries.
          queue = queue.filter((p) => p !== pending);
          settle(() =>
            reject(new KafkaUnavailableError(`produce to ${topic} timed out after ${options.deadlineMs} ms`)),
          );
        }, options.deadlineMs);
        const settle = (action: () => void) => {
          if (pending.settled) return;
          pending.settled = true;
          clearTimeout(timer);
          action();
        };
        const pending: Pending = {
          topic,
          messages,
          bytes: messages.reduce((sum, m) => sum + m.value.length + m.key.length, 0),
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
