import type { MSKEvent } from 'aws-lambda';
import { environmentConfig } from '../../../../lib/config/environments';
import {
  type EventSourceMapping,
  groupOf,
  startEventSourceMapping,
} from '../../../../localstack/runtime/event-source-mapping/event-source-mapping';
import { waitFor } from '../../../../localstack/services/process';
import { createTestTopic, kafkaBrokers, testKafka, uniqueName } from '../../../support/services';

/**
 * The local event source mapping against the real test broker, with a scripted handler: MSK-shaped events,
 * commits only after success, retry from the first failed record, no record skipped.
 */
describe('local event source mapping on a real broker', () => {
  let esm: EventSourceMapping | undefined;
  afterEach(async () => {
    await esm?.stop();
    esm = undefined;
  });

  it('delivers MSK events, honours batch item failures and errors, and commits only what succeeded', async () => {
    const topic = await createTestTopic('esm', { partitions: 1 });
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({
        key: `k${i}`,
        value: `{"n":${i}}`,
        headers: { 'content-type': 'application/json' },
      })),
    });
    await producer.disconnect();

    const invocations: number[][] = [];
    let firstEvent: MSKEvent | undefined;
    const groupPrefix = uniqueName('esm-test');
    esm = await startEventSourceMapping({
      brokers: kafkaBrokers(),
      topics: [topic],
      groupPrefix,
      sink: { ...environmentConfig('local').sink, batchSize: 10, maxBatchingWindowSeconds: 0.1 },
      backoff: { initialMs: 10, maxMs: 50 },
      log: () => {},
      handler: async (event) => {
        firstEvent ??= event;
        const offsets = (event.records[`${topic}-0`] ?? []).map((r) => r.offset);
        invocations.push(offsets);
        if (invocations.length === 1) {
          return { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 7 } }] };
        }
        if (invocations.length === 2) throw new Error('transient failure');
        return { batchItemFailures: [] };
      },
    });

    const admin = testKafka().admin();
    await admin.connect();
    try {
      await waitFor(
        async () => {
          const [offsets] = await admin.fetchOffsets({
            groupId: groupOf(groupPrefix, topic),
            topics: [topic],
          });
          return offsets?.partitions[0]?.offset === '20';
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'offset 20 committed' },
      );
    } finally {
      await admin.disconnect();
    }

    const record = firstEvent?.records[`${topic}-0`]?.[0];
    expect(firstEvent).toMatchObject({
      eventSource: 'aws:kafka',
      bootstrapServers: kafkaBrokers().join(','),
    });
    expect(record).toMatchObject({ topic, partition: 0, offset: 0, timestampType: 'CREATE_TIME' });
    expect(Buffer.from(record?.key ?? '', 'base64').toString()).toBe('k0');
    expect(Buffer.from(record?.value ?? '', 'base64').toString()).toBe('{"n":0}');
    expect(record?.headers).toEqual([{ 'content-type': [...Buffer.from('application/json')] }]);

    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(invocations[0]).toEqual(range(0, 9)); // batch size 10; fails from offset 7
    expect(invocations[1]).toEqual(range(7, 16)); // resumes at the failed record; this one throws
    expect(invocations[2]).toEqual(range(7, 16)); // the same records again
    // Every record delivered, and those before the failure only once.
    const seen = invocations.flat();
    expect(new Set(seen)).toEqual(new Set(range(0, 19)));
    expect(seen.filter((o) => o < 7)).toEqual(range(0, 6));
  });
});
