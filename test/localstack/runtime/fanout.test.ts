import type { Consumer, IHeaders } from 'kafkajs';
import { createIngestCore } from '../../../lambdas/ingest/core';
import { brokerResolver } from '../../../lambdas/ingest/kafka/brokers';
import { kafkajsProducer } from '../../../lambdas/ingest/kafka/kafkajs';
import type { KafkaProducer } from '../../../lambdas/ingest/kafka/producer';
import { decodeMskEvent } from '../../../lambdas/sink/decode';
import { environmentConfig } from '../../../lib/config/environments';
import {
  consumerLag,
  type EventSourceMapping,
  startEventSourceMapping,
} from '../../../localstack/runtime/event-source-mapping/event-source-mapping';
import { waitFor } from '../../../localstack/services/process';
import { createRegistry, financialTransactions, INGEST_HEADERS, topicOf } from '../../../schemas';
import { compileValidator } from '../../../schemas/ajv-compile';
import { batchRouteOf } from '../../../schemas/api/openapi';
import { exampleRecord, LIMITS, post } from '../../lambdas/ingest/support';
import { kafkaBrokers, testKafka, uniqueName } from '../../support/services';

/**
 * Fan-out and replay (the consumer contract, README.md#consuming-the-raw-topics-fan-out-and-replay): another team's consumer group reads the
 * records the ingest core produced, independently of the sink's group (the local event source mapping),
 * and replays from the earliest retained offset while the sink's group keeps progressing, unaffected.
 */
jest.setTimeout(120_000);

const dataset = { ...financialTransactions, name: uniqueName('fanout').replace(/-/g, '_') };
const topic = topicOf(dataset);
const seen = (messages: readonly Seen[]) => messages.map((m) => `${m.key} ${m.value}`).sort();

interface Seen {
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
}

let producer: KafkaProducer;
let sink: EventSourceMapping | undefined;
let team: Consumer | undefined;

beforeAll(async () => {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
  });
  await admin.disconnect();
  producer = kafkajsProducer({
    clientId: 'fanout-test',
    brokers: brokerResolver({ kind: 'static', brokers: kafkaBrokers() }),
    auth: { mechanism: 'plaintext' },
    compression: 'gzip',
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 2_500,
    deadlineMs: 3_000,
  });
});

afterAll(async () => {
  await team?.disconnect();
  await sink?.stop();
  await producer.close();
});

test('a second consumer group reads the same records and replays from the earliest offset; the sink goes on', async () => {
  const core = createIngestCore({
    registry: createRegistry([dataset], { compile: compileValidator }),
    producer,
    clock: Date.now,
    limits: LIMITS,
  });
  const ingest = async (batch: string) => {
    const records = Array.from({ length: 10 }, (_, i) => ({
      ...exampleRecord(dataset),
      transaction_id: `${batch}-${i}`,
    }));
    const { response } = await core(post(batchRouteOf(dataset), { records }));
    expect(response.statusCode).toBe(200);
  };

  // The sink's group: the local event source mapping, as MSK's hands batches to the sink Lambda.
  const sinkSeen: Seen[] = [];
  const groupPrefix = uniqueName('fanout-sink');
  sink = await startEventSourceMapping({
    brokers: kafkaBrokers(),
    topics: [topic],
    groupPrefix,
    sink: { ...environmentConfig('local').sink, maxBatchingWindowSeconds: 0.1 },
    log: () => {},
    handler: async (event) => {
      for (const r of decodeMskEvent(event)) {
        const headers = Object.assign({}, ...(r.headers ?? []));
        sinkSeen.push({ key: r.key ?? '', value: r.value ?? '', headers });
      }
      return { batchItemFailures: [] };
    },
  });
  const admin = testKafka().admin();
  await admin.connect();
  const sinkLag = async () => (await consumerLag(admin, groupPrefix, [topic])).reduce((n, p) => n + p.lag, 0);

  // Another team's group, reading on its own terms.
  const teamGroup = uniqueName('team-fraud');
  const teamSeen: Seen[] = [];
  const startTeam = async (fromBeginning: boolean) => {
    team = testKafka().consumer({ groupId: teamGroup });
    await team.connect();
    await team.subscribe({ topic, fromBeginning });
    await team.run({
      eachMessage: async ({ message }) => {
        teamSeen.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers: text(message.headers),
        });
      },
    });
  };

  try {
    await ingest('a');
    await startTeam(true);
    await waitFor(() => sinkSeen.length >= 10 && teamSeen.length >= 10, {
      timeoutMs: 60_000,
      what: 'both groups to read the first 10 records',
    });
    // The same records, the contract of the README: key = id, value = the record, metadata in headers.
    expect(seen(teamSeen)).toEqual(seen(sinkSeen));
    for (const m of teamSeen) {
      expect(JSON.parse(m.value).transaction_id).toBe(m.key);
      expect(m.headers).toMatchObject({
        [INGEST_HEADERS.dataset]: dataset.name,
        [INGEST_HEADERS.schemaVersion]: '1',
      });
      expect(Number.isNaN(Date.parse(m.headers[INGEST_HEADERS.ingestTime] ?? ''))).toBe(false);
    }

    // Replay: the team rewinds its own group to the earliest retained offset...
    await team?.disconnect();
    // (explicit low watermarks: kafkajs reads a committed "-2" as "use fromBeginning", not as earliest)
    const earliest = (await admin.fetchTopicOffsets(topic)).map(({ partition, low }) => ({
      partition,
      offset: low,
    }));
    await admin.setOffsets({ groupId: teamGroup, topic, partitions: earliest });
    const before = teamSeen.length;
    await startTeam(false);
    // ...while new records keep arriving and the sink's group keeps progressing.
    await ingest('b');
    await waitFor(
      async () => teamSeen.length - before >= 20 && sinkSeen.length >= 20 && (await sinkLag()) === 0,
      {
        timeoutMs: 60_000,
        what: 'the replay to read all 20 records and the sink to commit the 10 new ones',
      },
    );
    expect(seen(teamSeen.slice(before))).toEqual(seen(sinkSeen));
    // The team's replay changed nothing for the sink: each record once, all committed.
    expect(sinkSeen).toHaveLength(20);
    expect(new Set(sinkSeen.map((m) => m.key)).size).toBe(20);
  } finally {
    await admin.disconnect();
  }
});

function text(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]));
}
