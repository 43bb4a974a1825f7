import type { MSKEvent } from 'aws-lambda';
import type { ConsumedMessage } from '../../../lambdas/sink/msk-event';
import { mskEvent } from '../../../lambdas/sink/msk-event';
import {
  type FailedBatchStore,
  type OffsetRange,
  parseOnFailureRecord,
  rangesOf,
  replayFailedBatches,
} from '../../../lambdas/sink/replay';
import { kafkaOnFailureRecord } from '../../../localstack/runtime/event-source-mapping/on-failure';

/** The replay's decisions with an in-memory destination and log; the end-to-end path is replay.test.ts. */
const TOPIC = 'raw-with-dashes';
const messages = (partition: number, from: number, to: number): ConsumedMessage[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    topic: TOPIC,
    partition,
    offset: from + i,
    timestamp: Date.UTC(2024, 0, 1),
    key: null,
    value: `v${from + i}`,
  }));

const recordOf = (batch: ConsumedMessage[]) =>
  JSON.stringify(
    kafkaOnFailureRecord({
      event: mskEvent(batch, { bootstrapServers: 'b:9092' }),
      requestId: 'r',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sink',
      invocations: 3,
      now: new Date(Date.UTC(2024, 0, 1, 12)),
    }),
  );

function memoryStore(objects: Record<string, string>): FailedBatchStore & { moved: string[] } {
  const moved: string[] = [];
  return {
    moved,
    list: async () => Object.keys(objects).sort(),
    read: async (key) => objects[key] ?? '',
    markReplayed: async (key) => {
      moved.push(key);
      return `replayed/${key}`;
    },
  };
}

it('reads ranges of topics with dashes in their names', () => {
  const record = parseOnFailureRecord(recordOf(messages(12, 40, 49)));
  expect(rangesOf(record)).toEqual([{ topic: TOPIC, partition: 12, firstOffset: 40n, lastOffset: 49n }]);
  expect(() => parseOnFailureRecord('{"requestContext":{}}')).toThrow(/not a Kafka on-failure/);
});

it('replays complete ranges, and leaves in place what Kafka no longer holds, what fails again and what is not a record', async () => {
  const store = memoryStore({
    'aws/lambda/u/a': recordOf(messages(0, 0, 9)),
    'aws/lambda/u/b': recordOf(messages(1, 0, 9)), // retention deleted offsets 0..4 of partition 1
    'aws/lambda/u/c': recordOf(messages(2, 0, 4)), // the sink fails again on this one
    'aws/lambda/u/d': 'not json',
  });
  const invoked: MSKEvent[] = [];
  const lines: string[] = [];
  const summary = await replayFailedBatches({
    store,
    read: async ({ partition, firstOffset, lastOffset }: OffsetRange) =>
      messages(partition, Number(firstOffset), Number(lastOffset)).filter(
        (m) => partition !== 1 || Number(m.offset) >= 5,
      ),
    invoke: async (event) => {
      if (event.records[`${TOPIC}-2`]) throw new Error('SlowDown');
      invoked.push(event);
    },
    dryRun: false,
    verbose: false,
    log: (line) => lines.push(line),
  });
  expect(summary).toMatchObject({
    batches: 4,
    replayed: 1,
    leftInPlace: 3,
    recordsNamed: 25,
    recordsRecovered: 10,
    recordsMissing: 5,
  });
  expect(store.moved).toEqual(['aws/lambda/u/a']);
  expect(invoked.map((e) => e.records[`${TOPIC}-0`]?.map((r) => r.offset))).toEqual([
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  ]);
  expect(invoked[0]?.bootstrapServers).toBe('b:9092');
  expect(lines.join('\n')).toMatch(/u\/b: left in place, 5 record\(s\) no longer in Kafka/);
  expect(lines.join('\n')).toMatch(/u\/c: left in place, the sink failed again: SlowDown/);
  expect(lines.join('\n')).toMatch(/u\/d: skipped/);
});

it('changes nothing in a dry run', async () => {
  const store = memoryStore({ 'aws/lambda/u/a': recordOf(messages(0, 0, 2)) });
  const summary = await replayFailedBatches({
    store,
    read: async (r) => messages(r.partition, Number(r.firstOffset), Number(r.lastOffset)),
    invoke: async () => {
      throw new Error('not in a dry run');
    },
    dryRun: true,
    verbose: false,
    log: () => {},
  });
  expect(summary).toMatchObject({ batches: 1, replayed: 0, recordsNamed: 3, recordsRecovered: 0 });
  expect(store.moved).toEqual([]);
});
