/**
 * The Kafka side of re-driving failed batches (lambdas/sink/replay.ts): the records of one offset range,
 * for `npm run replay` (locally and on AWS) and the recovery drill.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { ConsumedMessage } from '../../../lambdas/sink/msk-event';
import type { OffsetRange, RangeReader } from '../../../lambdas/sink/replay';

/**
 * Reads one partition's offset range with a throwaway consumer group (kafkajs has no manual assignment):
 * seek to the first offset, collect up to the last, commit nothing, delete the group. Offsets retention
 * already removed, or beyond the log end, are simply not returned.
 */
export function kafkaRangeReader(kafka: Kafka, timeoutMs = 60_000): RangeReader {
  return async (range: OffsetRange) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const bounds = (await admin.fetchTopicOffsets(range.topic)).find(
        (p) => p.partition === range.partition,
      );
      if (!bounds) return [];
      const from = range.firstOffset > BigInt(bounds.low) ? range.firstOffset : BigInt(bounds.low);
      const to = range.lastOffset < BigInt(bounds.high) - 1n ? range.lastOffset : BigInt(bounds.high) - 1n;
      if (from > to) return [];
      const groupId = `replay-${randomUUID()}`;
      const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 6 * 1024 * 1024 });
      const messages: ConsumedMessage[] = [];
      let timer: NodeJS.Timeout | undefined;
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: range.topic, fromBeginning: false });
        let reached: () => void = () => undefined;
        const complete = new Promise<void>((resolve, reject) => {
          reached = resolve;
          timer = setTimeout(
            () => reject(new Error(`reading ${range.topic}[${range.partition}] ${from}..${to} timed out`)),
            timeoutMs,
          );
        });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== range.partition) return;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              // Below the range, or seen already (a re-fetch after a rebalance).
              if (offset < from || offset < from + BigInt(messages.length)) continue;
              if (offset > to) break;
              messages.push({
                ...m,
                topic: range.topic,
                partition: range.partition,
                headers: m.headers ?? {},
              });
              if (offset === to) reached();
            }
          },
        });
        consumer.seek({ topic: range.topic, partition: range.partition, offset: String(from) });
        await complete;
      } finally {
        clearTimeout(timer);
        await consumer.disconnect();
        await admin.deleteGroups([groupId]).catch(() => undefined);
      }
      return messages;
    } finally {
      await admin.disconnect();
    }
  };
}
