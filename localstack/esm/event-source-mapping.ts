import { randomUUID } from 'node:crypto';
import type { Context, MSKEvent } from 'aws-lambda';
import { type Admin, type Consumer, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import type { EnvironmentConfig } from '../../lib/config/environments';
import type { PlatformMetrics } from '../api/metrics';
import { lambdaContext } from '../api/proxy-event';
import { type BackoffPolicy, deliver, outcomeOf } from './delivery';

export type MskHandler = (event: MSKEvent, context: Context) => Promise<unknown>;

/** Builds the MSK event for one partition's records (the sink area's builder, shared with its tests). */
export type MskEventBuilder = (
  topic: string,
  partition: number,
  messages: readonly KafkaMessage[],
  source: { readonly eventSourceArn: string; readonly bootstrapServers: string },
) => MSKEvent;

export interface EventSourceMappingOptions {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly handler: MskHandler;
  readonly buildEvent: MskEventBuilder;
  /** batchSize, maxBatchingWindowSeconds, startingPosition and timeoutSeconds, as the CDK configures them. */
  readonly sink: EnvironmentConfig['sink'];
  /** Consumer group of topic T is `<groupPrefix>-<T>`: one group per topic, as one mapping per topic. */
  readonly groupPrefix: string;
  readonly metrics?: PlatformMetrics;
  readonly backoff?: BackoffPolicy;
  readonly log?: (message: string) => void;
}

export interface EventSourceMapping {
  /** Finishes the invocation in flight, commits it, and leaves the group. */
  stop(): Promise<void>;
  /** Messages not yet committed by the group, per topic (log end minus committed offset, summed). */
  lag(): Promise<Record<string, number>>;
}

/** Lambda caps a synchronous invocation payload at 6 MB; a fetch never returns more per partition. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000 };

/**
 * The local stand-in for Lambda's MSK event source mapping. Batching follows the mapping's settings: the
 * broker holds each fetch until a full payload is there or the batching window has passed (minBytes +
 * maxWaitTime), and each fetched partition batch is cut into invocations of at most `batchSize` records.
 * Offsets are committed by hand, only after the handler succeeded for the records they cover.
 */
export async function startEventSourceMapping(
  options: EventSourceMappingOptions,
): Promise<EventSourceMapping> {
  const log = options.log ?? ((message: string) => console.error(`[esm] ${message}`));
  const kafka = new Kafka({
    clientId: 'local-esm',
    brokers: [...options.brokers],
    logLevel: logLevel.ERROR,
    logCreator:
      () =>
      ({ namespace, log: entry }) =>
        log(`kafkajs ${namespace}: ${entry.message}`),
  });
  const source = {
    eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/lakehouse-local/local',
    bootstrapServers: options.brokers.join(','),
  };
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const windowMs = options.sink.maxBatchingWindowSeconds * 1000;
  const timeoutMs = options.sink.timeoutSeconds * 1000;
  const groupOf = (topic: string) => `${options.groupPrefix}-${topic}`;
  const consumers: Consumer[] = [];
  let stopping = false;

  const admin: Admin = kafka.admin();
  await admin.connect();

  for (const topic of options.topics) {
    const partitions =
      (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 1;
    const consumer = kafka.consumer({
      groupId: groupOf(topic),
      minBytes: MAX_PAYLOAD_BYTES,
      maxWaitTimeInMs: Math.max(windowMs, 10),
      maxBytesPerPartition: MAX_PAYLOAD_BYTES,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: options.sink.startingPosition === 'TRIM_HORIZON' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitions,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const { partition } = batch;
        const shouldContinue = () => !stopping && isRunning() && !isStale();
        await deliver(batch.messages, {
          batchSize: options.sink.batchSize,
          shouldContinue,
          invoke: async (messages) => {
            const event = options.buildEvent(topic, partition, messages, source);
            const context = lambdaContext('sink', timeoutMs, randomUUID());
            try {
              const outcome = outcomeOf(
                await options.handler(event, context),
                messages.map((m) => ({ offset: m.offset, partition })),
              );
              options.metrics?.sinkInvocations.inc({ topic, outcome: outcome.ok ? 'success' : 'partial' });
              return outcome;
            } catch (error) {
              log(`sink handler failed on ${topic}[${partition}]: ${(error as Error).stack ?? error}`);
              options.metrics?.sinkInvocations.inc({ topic, outcome: 'error' });
              return { ok: false, retryFrom: messages[0]?.offset ?? '0' };
            }
          },
          commit: async (nextOffset, count) => {
            await consumer.commitOffsets([{ topic, partition, offset: nextOffset }]);
            resolveOffset((BigInt(nextOffset) - 1n).toString());
            options.metrics?.sinkRecords.inc({ topic }, count);
          },
          wait: async (ms) => {
            const until = Date.now() + ms;
            while (shouldContinue() && Date.now() < until) {
              await new Promise((resolve) => setTimeout(resolve, Math.min(250, until - Date.now())));
              await heartbeat();
            }
          },
          backoff,
          onRetry: (attempt, delayMs, retryFrom) =>
            log(`retry ${attempt} of ${topic}[${partition}] from offset ${retryFrom} in ${delayMs} ms`),
        });
        await heartbeat();
      },
    });
    consumers.push(consumer);
  }

  async function lag(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const topic of options.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: groupOf(topic), topics: [topic] });
      let total = 0;
      for (const end of ends) {
        const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        // -1: nothing committed yet, so everything from the log start is still to do.
        const from = BigInt(done) < 0n ? BigInt(end.low) : BigInt(done);
        const partitionLag = Number(BigInt(end.high) - from);
        options.metrics?.consumerLag.set({ topic, partition: String(end.partition) }, partitionLag);
        total += partitionLag;
      }
      result[topic] = total;
    }
    return result;
  }
  options.metrics?.addProbe(async () => {
    if (!stopping) await lag();
  });

  return {
    lag,
    async stop() {
      stopping = true;
      // disconnect() waits for the batch in flight, which stops at its next invocation boundary.
      await Promise.all(consumers.map((c) => c.disconnect()));
      await admin.disconnect();
    },
  };
}
