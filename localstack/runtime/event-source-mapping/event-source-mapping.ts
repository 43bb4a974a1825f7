import { randomUUID } from 'node:crypto';
import type { Context, MSKEvent } from 'aws-lambda';
import { type Admin, type Consumer, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import type { ObjectWriter } from '../../../lambdas/sink/core';
import { mskEvent } from '../../../lambdas/sink/msk-event';
import type { EnvironmentConfig } from '../../../lib/config/environments';
import { sinkConsumerGroup as groupOf } from '../../../lib/config/topics';
import { ingestTimeMs, LatencyHistogram, type LatencySnapshot } from '../../tools/lake/latency';
import { lambdaContext } from '../api/proxy-event';
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

/** What the code serving one fetched partition batch needs. */
interface PartitionBatch {
  readonly options: EventSourceMappingOptions;
  readonly topic: string;
  readonly partition: number;
  readonly log: (message: string) => void;
  readonly heartbeat: () => Promise<void>;
  /** The MSK event of some of the batch's messages, as Lambda builds it. */
  readonly eventOf: (messages: readonly KafkaMessage[]) => MSKEvent;
}

const SOURCE_ARN = 'arn:aws:kafka:us-east-1:000000000000:cluster/lakehouse-local/local';

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
      ({ namespace, log: entry }) => {
        const line = kafkajsLine(namespace, entry);
        if (line) log(line);
      },
  });
  const admin: Admin = kafka.admin();
  await admin.connect();
  const metadata = await admin
    .fetchTopicMetadata({ topics: [...options.topics] })
    .finally(() => admin.disconnect());

  let stopping = false;
  const consumers: Consumer[] = [];
  const readiness: Promise<void>[] = [];
  for (const topic of options.topics) {
    // Every partition is consumed concurrently, as the mapping's pollers do.
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 1;
    const { consumer, joined } = await consumeTopic(kafka, topic, partitions, options, log, () => stopping);
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

/** One topic's consumer group: fetches, invocations, commits; ready once the group has its partitions. */
async function consumeTopic(
  kafka: Kafka,
  topic: string,
  partitions: number,
  options: EventSourceMappingOptions,
  log: (message: string) => void,
  stopping: () => boolean,
): Promise<{ consumer: Consumer; joined: Promise<void> }> {
  const source = { eventSourceArn: SOURCE_ARN, bootstrapServers: options.brokers.join(',') };
  const consumer = kafka.consumer({
    groupId: groupOf(options.groupPrefix, topic),
    minBytes: MAX_PAYLOAD_BYTES,
    maxWaitTimeInMs: Math.max(options.sink.maxBatchingWindowSeconds * 1000, 10),
    maxBytesPerPartition: MAX_PAYLOAD_BYTES,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    // A poller that died (SIGKILL) leaves the group within 6 s (the broker's least session timeout), and
    // the rebalance hands its partitions to the surviving pollers; a live one heartbeats every second,
    // during invocations too (see invokeSink).
    sessionTimeout: 6_000,
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
      const shouldContinue = () => !stopping() && isRunning() && !isStale();
      const served: PartitionBatch = {
        options,
        topic,
        partition,
        log,
        heartbeat,
        eventOf: (messages) =>
          mskEvent(
            messages.map((m) => ({ ...m, topic, partition, headers: m.headers ?? {} })),
            source,
          ),
      };
      await deliver(batch.messages, {
        batchSize: options.sink.batchSize,
        shouldContinue,
        invoke: (messages) => invokeSink(served, messages),
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
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        onRetry: (attempt, delayMs, retryFrom) =>
          log(`retry ${attempt} of ${topic}[${partition}] from offset ${retryFrom} in ${delayMs} ms`),
        ...(onFailure && {
          onFailure: {
            maxRetryAttempts: options.sink.maxRetryAttempts,
            send: (messages, invocations) => giveUp(served, onFailure, esmUuid, messages, invocations),
          },
        }),
      });
      await heartbeat();
    },
  });
  return { consumer, joined };
}

/** One synchronous invocation of the handler, reported with the latency of what it wrote. */
async function invokeSink(
  batch: PartitionBatch,
  messages: readonly KafkaMessage[],
): Promise<InvocationOutcome> {
  const { options, topic, partition } = batch;
  const context = lambdaContext('sink', options.sink.timeoutSeconds * 1000, randomUUID());
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
  const beating = setInterval(() => batch.heartbeat().catch(() => {}), 1_000);
  try {
    const outcome = outcomeOf(
      await options.handler(batch.eventOf(messages), context),
      messages.map((m) => ({ offset: m.offset, partition })),
    );
    report(outcome);
    return outcome;
  } catch (error) {
    batch.log(`sink handler failed on ${topic}[${partition}]: ${(error as Error).stack ?? error}`);
    report(undefined);
    return { ok: false, retryFrom: messages[0]?.offset ?? '0' };
  } finally {
    clearInterval(beating);
  }
}

/** After maxRetryAttempts: Lambda's invocation record to the on-failure destination; throws if unwritten. */
async function giveUp(
  batch: PartitionBatch,
  onFailure: NonNullable<EventSourceMappingOptions['onFailure']>,
  esmUuid: string,
  messages: readonly KafkaMessage[],
  invocations: number,
): Promise<void> {
  const { topic, partition, log } = batch;
  const now = new Date();
  const key = onFailureObjectKey(esmUuid, `${topic}-${partition}`, now);
  const record = kafkaOnFailureRecord({
    event: batch.eventOf(messages),
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
    log(`on-failure destination s3://${onFailure.bucket} unreachable, retrying the batch: ${error}`);
    throw error;
  }
  log(
    `gave up ${messages.length} records of ${topic}[${partition}] after ${invocations} invocations: s3://${onFailure.bucket}/${key}`,
  );
  batch.options.onGiveUp?.(topic, messages.length, key);
}

/**
 * Messages each group has not committed yet, per topic and partition: log end offset minus committed
 * offset; where the group has committed nothing, from `startOffsets` (where a LATEST mapping started) or
 * else the log start.
 */
export async function consumerLag(
  admin: Admin,
  groupPrefix: string,
  topics: readonly string[],
  startOffsets?: ReadonlyMap<string, readonly { partition: number; high: string }[]>,
): Promise<{ topic: string; partition: number; lag: number }[]> {
  const result: { topic: string; partition: number; lag: number }[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: groupOf(groupPrefix, topic), topics: [topic] });
    for (const end of ends) {
      const done = BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
      const started = startOffsets?.get(topic)?.find((p) => p.partition === end.partition)?.high;
      const from = done >= 0n ? done : BigInt(started ?? end.low);
      result.push({ topic, partition: end.partition, lag: Number(BigInt(end.high) - from) });
    }
  }
  return result;
}

/**
 * A kafkajs error log as one line with its error (kafkajs keeps it apart from the message, which alone says
 * only "Response Heartbeat(key: 12, version: 3)"); undefined for a group rebalancing, which every poller that
 * joins or leaves causes and the consumer handles by rejoining.
 */
export function kafkajsLine(
  namespace: string,
  entry: { readonly message: string; readonly error?: unknown },
): string | undefined {
  const error = typeof entry.error === 'string' ? entry.error : undefined;
  if (error && /group is rebalancing/.test(error)) return undefined;
  return `kafkajs ${namespace}: ${entry.message}${error ? `: ${error}` : ''}`;
}
