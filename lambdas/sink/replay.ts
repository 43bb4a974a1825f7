import type { MSKEvent } from 'aws-lambda';
import { type ConsumedMessage, mskEvent } from './msk-event';

/**
 * Replaying the batches a Kafka event source mapping gave up on. After its retry budget the mapping writes
 * one JSON "invocation record" per failed batch to its on-failure destination and commits past the batch;
 * the records themselves stay in Kafka (until retention). The replay reads those invocation records, fetches
 * each recorded offset range from Kafka and hands it to the sink handler again. The sink's object keys are
 * deterministic in topic, partition and offsets, so a replay rewrites what a partial attempt wrote, and
 * replaying a range twice changes nothing; a replayed record is moved aside so the next run skips it.
 */

/** One topic-partition of a failed batch, as `KafkaBatchInfo.recordsInfo["<topic>-<partition>"]`. */
export interface KafkaRecordsInfo {
  readonly firstRecordOffset: string;
  readonly lastRecordOffset: string;
  readonly firstRecordTimestamp: string;
  readonly lastRecordTimestamp: string;
}

/**
 * What Lambda writes to an S3 on-failure destination for a failed MSK / self-managed Kafka batch
 * ("Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources", AWS Lambda
 * developer guide): metadata, and for S3 destinations the whole event as an escaped JSON string.
 */
export interface KafkaOnFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted' | 'MaximumPayloadSizeExceeded' | string;
    readonly approximateInvokeCount: number;
  };
  /** Null when the payload was too large to invoke the function at all. */
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError: string;
  } | null;
  readonly version: string;
  readonly timestamp: string;
  readonly KafkaBatchInfo: {
    readonly batchSize: number;
    readonly eventSourceArn: string;
    readonly bootstrapServers: string;
    readonly payloadSize: number;
    readonly recordsInfo: Readonly<Record<string, KafkaRecordsInfo>>;
  };
  readonly payload?: string;
}

/** An offset range of one partition to fetch again (both ends included). */
export interface OffsetRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
}

/** Reads and validates an invocation record; throws with the reason when it is not one. */
export function parseOnFailureRecord(text: string): KafkaOnFailureRecord {
  const record = JSON.parse(text) as Partial<KafkaOnFailureRecord>;
  const info = record?.KafkaBatchInfo;
  if (!info || typeof info.recordsInfo !== 'object' || info.recordsInfo === null) {
    throw new Error('not a Kafka on-failure invocation record (no KafkaBatchInfo.recordsInfo)');
  }
  for (const [group, range] of Object.entries(info.recordsInfo)) {
    if (!/^.+-\d+$/.test(group) || !/^\d+$/.test(range?.firstRecordOffset ?? '')) {
      throw new Error(`recordsInfo entry ${JSON.stringify(group)} has no topic-partition and offsets`);
    }
    if (!/^\d+$/.test(range.lastRecordOffset ?? '')) {
      throw new Error(`recordsInfo entry ${JSON.stringify(group)} has no lastRecordOffset`);
    }
  }
  return record as KafkaOnFailureRecord;
}

/** The ranges of a record; `<topic>-<partition>` splits at the LAST dash (topic names may contain dashes). */
export function rangesOf(record: KafkaOnFailureRecord): OffsetRange[] {
  return Object.entries(record.KafkaBatchInfo.recordsInfo).map(([group, info]) => {
    const dash = group.lastIndexOf('-');
    return {
      topic: group.slice(0, dash),
      partition: Number(group.slice(dash + 1)),
      firstOffset: BigInt(info.firstRecordOffset),
      lastOffset: BigInt(info.lastRecordOffset),
    };
  });
}

/** Where the invocation records are (the S3 destination locally and on AWS). */
export interface FailedBatchStore {
  /** Keys of the records not replayed yet, oldest first. */
  list(): Promise<string[]>;
  read(key: string): Promise<string>;
  /** Moves a replayed record aside, so the next run does not see it. */
  markReplayed(key: string): Promise<string>;
}

/** Fetches the messages of an offset range from Kafka (fewer when retention has deleted some). */
export type RangeReader = (range: OffsetRange) => Promise<ConsumedMessage[]>;

export interface ReplayDependencies {
  readonly store: FailedBatchStore;
  readonly read: RangeReader;
  /** The sink handler (or anything with its contract: throws when the batch was not written). */
  readonly invoke: (event: MSKEvent) => Promise<unknown>;
  readonly dryRun: boolean;
  readonly log: (line: string) => void;
  readonly verbose: boolean;
}

export interface ReplaySummary {
  /** Invocation records found, replayed (and moved aside), and left in place because of a problem. */
  readonly batches: number;
  readonly replayed: number;
  readonly leftInPlace: number;
  /** Kafka records the invocation records name, and those fetched and handed to the sink. */
  readonly recordsNamed: number;
  readonly recordsRecovered: number;
  /** Records no longer in Kafka (retention), whose batch is left in place for a human. */
  readonly recordsMissing: number;
  readonly durationMs: number;
}

const size = (r: OffsetRange) => Number(r.lastOffset - r.firstOffset + 1n);
const describe = (r: OffsetRange) => `${r.topic}[${r.partition}] ${r.firstOffset}..${r.lastOffset}`;

/**
 * Replays every pending invocation record: fetch each range, check it is complete, invoke the sink with
 * the same MSK event shape the mapping delivers, then move the record aside. A record with a range Kafka no
 * longer holds in full, or whose invocation fails, stays where it is and is reported (never half-moved).
 */
export async function replayFailedBatches(deps: ReplayDependencies): Promise<ReplaySummary> {
  const started = performance.now();
  const keys = await deps.store.list();
  deps.log(
    `${keys.length} failed batch record(s) pending${deps.dryRun ? ' (dry run: nothing is written)' : ''}`,
  );
  let replayed = 0;
  let recordsNamed = 0;
  let recordsRecovered = 0;
  let recordsMissing = 0;
  for (const [i, key] of keys.entries()) {
    const progress = `[${i + 1}/${keys.length}]`;
    let record: KafkaOnFailureRecord;
    try {
      record = parseOnFailureRecord(await deps.store.read(key));
    } catch (error) {
      deps.log(`${progress} ${key}: skipped, ${(error as Error).message}`);
      continue;
    }
    const ranges = rangesOf(record);
    const named = ranges.reduce((sum, r) => sum + size(r), 0);
    recordsNamed += named;
    const fetched = await Promise.all(
      ranges.map(async (range) => ({ range, messages: await deps.read(range) })),
    );
    const incomplete = fetched.filter(({ range, messages }) => messages.length < size(range));
    if (incomplete.length > 0) {
      const lost = incomplete.reduce((sum, f) => sum + size(f.range) - f.messages.length, 0);
      recordsMissing += lost;
      deps.log(
        `${progress} ${key}: left in place, ${lost} record(s) no longer in Kafka (${incomplete.map((f) => `${describe(f.range)}: ${f.messages.length} of ${size(f.range)}`).join('; ')}); see runbooks/sink-failed-batches.md`,
      );
      continue;
    }
    const messages = fetched.flatMap((f) => f.messages);
    const what = `${ranges.map(describe).join(', ')} (${messages.length} records, failed ${record.requestContext.approximateInvokeCount}x, ${record.timestamp})`;
    if (deps.dryRun) {
      deps.log(`${progress} would replay ${what}`);
      continue;
    }
    try {
      await deps.invoke(
        mskEvent(messages, {
          eventSourceArn: record.KafkaBatchInfo.eventSourceArn,
          bootstrapServers: record.KafkaBatchInfo.bootstrapServers,
        }),
      );
    } catch (error) {
      deps.log(`${progress} ${key}: left in place, the sink failed again: ${(error as Error).message}`);
      continue;
    }
    const movedTo = await deps.store.markReplayed(key);
    replayed += 1;
    recordsRecovered += messages.length;
    deps.log(`${progress} replayed ${what}${deps.verbose ? `; ${key} -> ${movedTo}` : ''}`);
  }
  return {
    batches: keys.length,
    replayed,
    leftInPlace: keys.length - replayed,
    recordsNamed,
    recordsRecovered,
    recordsMissing,
    durationMs: Math.round(performance.now() - started),
  };
}
