import { randomUUID } from 'node:crypto';
import type { Context, MSKEvent } from 'aws-lambda';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import type { ObjectWriter } from '../../lambdas/sink/core';
import { mskEvent } from '../../lambdas/sink/msk-event';
import type { EnvironmentConfig } from '../../lib/config/environments';
import { sinkConsumerGroup as groupOf } from '../../lib/config/topics';
import { lambdaContext } from '../api/proxy-event';
import { ingestTimeMs, LatencyHistogram, type LatencySnapshot } from '../lake/latency';
import { type BackoffPolicy, deliver, type InvocationOutcome, outcomeOf } from './delivery';
import { kafkaOnFailureRecord, localMappingUuid, onFailureObjectKey } from './on-failure';

export type MskHandler = (event: MSKEvent, context: Context) => Promise<unknown>;

export interface EventSourceMappingOptions {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly handler: MskHandler;
  /**
   * batchSize, maxBatchingWindowSeconds, startingPosition, timeoutSeconds and maxRetryAttempts, as the CDK
   * configures them.
   */
  readonly sink: EnvironmentConfig['sink'];
  /**
   * The S3 on-failure destination (CDK: the quarantine bucket). With it, a batch that failed
   * `maxRetryAttempts` retries is written there as Lambda's invocation record and committed past; without
   * it the mapping retries forever, so nothing is skipped without a record.
   */
  readonly onFailure?: { readonly bucket: string; readonly writer: ObjectWriter };
  /** Consumer group of topic T is `<groupPrefix>-<T>`: one group per topic, as one mapping per topic. */
  readonly groupPrefix: string;
  /** Reports every invocation's outcome and the records each commit covers (metrics, tests). */
  readonly onInvocation?: (invocation: Invocation) => void;
  readonly onCommit?: (topic: string, records: number) => void;
  /** Reports a batch given up to the on-failure destination (metrics, tests). */
  readonly onGiveUp?: (topic: string, records: number, key: string) => void;
  readonly backoff?: BackoffPolicy;
  readonly log?: (message: string) => void;
}

export interface EventSourceMapping {
  /** Finishes the invocation in flight, commits it, and leaves the group. */
  stop(): Promise<void>;
}

export interface Invocation {
  readonly topic: string;
  readonly outcome: 'success' | 'partial' | 'error';
  readonly records: number;
  readonly durationMs: number;
  /** Accept-to-Parquet latency of the records this invocation wrote (see lake/latency.ts). */
  readonly latency: LatencySnapshot;
}

export { groupOf };

/** Lambda caps a synchronous invocation payload at 6 MB; a fetch never returns more per partition. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000 };
const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sink';

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
  const consumers: Consumer[] = [];
  const readiness: Promise<void>[] = [];
  let stopping = false;

  const admin: Admin = kafka.admin();
  await admin.connect();
  const metadata = await admin
    .fetchTopicMetadata({ topics: [...options.topics] })
    .finally(() => admin.disconnect());

  for (const topic of options.topics) {
    // Every partition is consumed concurrently, as the mapping's pollers do.
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 1;
    const consumer = kafka.consumer({
      groupId: groupOf(options.groupPrefix, topic),
      minBytes: MAX_PAYLOAD_BYTES,
      maxWaitTimeInMs: Math.max(windowMs, 10),
      maxBytesPerPartition: MAX_PAYLOAD_BYTES,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
      // A poller that died (SIGKILL) leaves the group within 10 s, so its restarted successor gets the
      // partitions soon after; a live one heartbeats every second, during invocations too (see invoke).
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    // Ready means the group has its partitions (the broker delays a new group's first join by ~3 s).
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        remove();
        resolve();
      });
    });
    const esmUuid = localMappingUuid(groupOf(options.groupPrefix, topic));
    const onFailure = options.onFailure;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: options.sink.startingPosition === 'TRIM_HORIZON' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitions,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const { partition } = batch;
        const shouldContinue = () => !stopping && isRunning() && !isStale();
        const eventOf = (messages: readonly (typeof batch.messages)[number][]) =>
          mskEvent(
            messages.map((m) => ({ ...m, topic, partition, headers: m.headers ?? {} })),
            source,
          );
        await deliver(batch.messages, {
          batchSize: options.sink.batchSize,
          shouldContinue,
          invoke: async (messages) => {
            const event = eventOf(messages);
            const context = lambdaContext('sink', timeoutMs, randomUUID());
            const started = performance.now();
            const report = (outcome: InvocationOutcome | undefined) => {
              // Latency of what was written: the records before the first failure, none on an error.
              const writtenAt = Date.now();
              const latency = new LatencyHistogram();
              const upTo = outcome === undefined ? -1n : outcome.ok ? undefined : BigInt(outcome.retryFrom);
              for (const m of messages) {
                if (upTo !== undefined && BigInt(m.offset) >= upTo) break;
                const accepted = ingestTimeMs(m.headers);
                if (accepted !== undefined) latency.add(writtenAt - accepted, accepted, writtenAt);
              }
              options.onInvocation?.({
                topic,
                outcome: outcome === undefined ? 'error' : outcome.ok ? 'success' : 'partial',
                records: messages.length,
                durationMs: performance.now() - started,
                latency: latency.snapshot(),
              });
            };
            const beating = setInterval(() => heartbeat().catch(() => {}), 1_000);
            try {
              const outcome = outcomeOf(
                await options.handler(event, context),
                messages.map((m) => ({ offset: m.offset, partition })),
              );
              report(outcome);
              return outcome;
            } catch (error) {
              log(`sink handler failed on ${topic}[${partition}]: ${(error as Error).stack ?? error}`);
              report(undefined);
              return { ok: false, retryFrom: messages[0]?.offset ?? '0' };
            } finally {
              clearInterval(beating);
            }
          },
          commit: async (nextOffset, count) => {
            await consumer.commitOffsets([{ topic, partition, offset: nextOffset }]);
            resolveOffset((BigInt(nextOffset) - 1n).toString());
            options.onCommit?.(topic, count);
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
          ...(onFailure && {
            onFailure: {
              maxRetryAttempts: options.sink.maxRetryAttempts,
              send: async (messages, invocations) => {
                const now = new Date();
                const key = onFailureObjectKey(esmUuid, `${topic}-${partition}`, now);
                const record = kafkaOnFailureRecord({
                  event: eventOf(messages),
                  requestId: randomUUID(),
                  functionArn: LOCAL_FUNCTION_ARN,
                  invocations,
                  now,
                });
                try {
                  await onFailure.writer.put({
                    bucket: onFailure.bucket,
                    key,
                    body: Buffer.from(JSON.stringify(record)),
                    contentType: 'application/json',
                    metadata: {},
                  });
                } catch (error) {
                  log(
                    `on-failure destination s3://${onFailure.bucket} unreachable, retrying the batch: ${error}`,
                  );
                  throw error;
                }
                log(
                  `gave up ${messages.length} records of ${topic}[${partition}] after ${invocations} invocations: s3://${onFailure.bucket}/${key}`,
                );
                options.onGiveUp?.(topic, messages.length, key);
              },
            },
          }),
        });
        await heartbeat();
      },
    });
    consumers.push(consumer);
    readiness.push(joined);
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(readiness),
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('sink consumers did not join their groups within 60 s')),
        60_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));

  return {
    async stop() {
      stopping = true;
      // disconnect() waits for the batch in flight, which stops at its next invocation boundary.
      await Promise.all(consumers.map((c) => c.disconnect()));
    },
  };
}

/**
 * Messages each group has not committed yet, per topic and partition: log end offset minus committed
 * offset (from the log start when the group has committed nothing).
 */
export async function consumerLag(
  admin: Admin,
  groupPrefix: string,
  topics: readonly string[],
): Promise<{ topic: string; partition: number; lag: number }[]> {
  const result: { topic: string; partition: number; lag: number }[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: groupOf(groupPrefix, topic), topics: [topic] });
    for (const end of ends) {
      const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const from = BigInt(done) < 0n ? BigInt(end.low) : BigInt(done);
      result.push({ topic, partition: end.partition, lag: Number(BigInt(end.high) - from) });
    }
  }
  return result;
}
