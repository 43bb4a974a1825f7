import { createHash, randomUUID } from 'node:crypto';
import type { MSKEvent } from 'aws-lambda';
import type { KafkaOnFailureRecord, KafkaRecordsInfo } from '../../../lambdas/sink/replay';
import { FAILED_BATCHES_PREFIX } from '../../../lib/config/lake';

/**
 * The invocation record Lambda writes to an S3 on-failure destination when a Kafka batch exhausted its
 * retries (shape: AWS Lambda developer guide, "Capturing discarded batches for Amazon MSK and self-managed
 * Apache Kafka event sources"), so the local mapping leaves exactly what AWS leaves for the replay to read.
 */
export function kafkaOnFailureRecord(args: {
  readonly event: MSKEvent;
  readonly requestId: string;
  readonly functionArn: string;
  readonly invocations: number;
  readonly now: Date;
}): KafkaOnFailureRecord {
  const payload = JSON.stringify(args.event);
  const recordsInfo: Record<string, KafkaRecordsInfo> = {};
  let batchSize = 0;
  for (const [group, records] of Object.entries(args.event.records)) {
    const first = records[0];
    const last = records.at(-1);
    if (!first || !last) continue;
    batchSize += records.length;
    recordsInfo[group] = {
      firstRecordOffset: String(first.offset),
      lastRecordOffset: String(last.offset),
      firstRecordTimestamp: new Date(first.timestamp).toISOString(),
      lastRecordTimestamp: new Date(last.timestamp).toISOString(),
    };
  }
  return {
    requestContext: {
      requestId: args.requestId,
      functionArn: args.functionArn,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: args.invocations,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: args.now.toISOString(),
    KafkaBatchInfo: {
      batchSize,
      eventSourceArn: args.event.eventSourceArn,
      bootstrapServers: args.event.bootstrapServers,
      payloadSize: Buffer.byteLength(payload),
      recordsInfo,
    },
    payload,
  };
}

/**
 * `aws/lambda/<ESM-UUID>/<topic>-<partition>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>`: the key
 * layout Lambda documents for S3 on-failure destinations, the topic-partition standing for the shard.
 */
export function onFailureObjectKey(esmUuid: string, group: string, now: Date): string {
  const iso = now.toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 19).replaceAll(':', '.');
  return `${FAILED_BATCHES_PREFIX}/${esmUuid}/${group}/${day.replaceAll('-', '/')}/${day}T${time}-${randomUUID()}`;
}

/** A stable UUID-shaped id per consumer group, standing for the mapping's UUID across restarts. */
export function localMappingUuid(groupId: string): string {
  const hex = createHash('sha256').update(groupId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
