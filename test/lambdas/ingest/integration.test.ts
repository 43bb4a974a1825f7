/**
 * The ingest path against real brokers: the test broker (test/support/services.ts) for the happy paths,
 * a closed port and a dedicated broker that is stopped mid-test for the failure paths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { KafkaMessage as ConsumedMessage } from 'kafkajs';
import { createIngestCore } from '../../../lambdas/ingest/core';
import { brokerResolver } from '../../../lambdas/ingest/kafka/brokers';
import { coalescingProducer } from '../../../lambdas/ingest/kafka/coalescing';
import { kafkajsProducer } from '../../../lambdas/ingest/kafka/kafkajs';
import type { KafkaProducer, ProducerOptions } from '../../../lambdas/ingest/kafka/producer';
import { type KafkaBroker, startKafka } from '../../../localstack/services/kafka/broker';
import { freePort } from '../../../localstack/services/process';
import {
  createRegistry,
  type DatasetDefinition,
  financialTransactions,
  insuranceClaims,
} from '../../../schemas';
import { compileValidator } from '../../../schemas/ajv-compile';
import { batchRouteOf } from '../../../schemas/api/openapi';
import { kafkaBrokers, testKafka, uniqueName } from '../../support/services';
import { API_EVENTS, exampleRecord, get, LIMITS, post } from './support';

const options = (brokers: readonly string[]): ProducerOptions => ({
  clientId: 'ingest-test',
  brokers: brokerResolver({ kind: 'static', brokers }),
  auth: { mechanism: 'plaintext' },
  compression: 'gzip',
  connectTimeoutMs: 1_000,
  requestTimeoutMs: 2_500,
  deadlineMs: 3_000,
});

const coreFor = (producer: KafkaProducer, datasets?: DatasetDefinition[]) =>
  createIngestCore({
    registry: createRegistry(datasets, { compile: compileValidator }),
    producer,
    clock: Date.now,
    limits: LIMITS,
  });

/** A copy of a platform dataset under a unique name, so its topic raw_<name> is this test's alone. */
async function privateDataset(base: DatasetDefinition, partitions = 3): Promise<DatasetDefinition> {
  const dataset = { ...base, name: uniqueName('it').replace(/-/g, '_') };
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: `raw_${dataset.name}`, numPartitions: partitions, replicationFactor: 1 }],
    });
  } finally {
    await admin.disconnect();
  }
  return dataset;
}

/** Reads the topic from the beginning until `count` messages arrived (or the deadline passed). */
async function consume(topic: string, count: number, keep: (m: ConsumedMessage) => boolean = () => true) {
  const consumer = testKafka().consumer({ groupId: uniqueName('it-group') });
  const got: (ConsumedMessage & { partition: number })[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${got.length} of ${count} messages on ${topic}`)),
        30_000,
      );
      consumer.run({
        eachMessage: async ({ message, partition }) => {
          if (keep(message)) got.push({ ...message, partition });
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const headersOf = (m: ConsumedMessage) =>
  Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));

/** What the handler runs: kafkajs behind the coalescer. */
const productionProducer = (brokers: readonly string[]) =>
  coalescingProducer(kafkajsProducer(options(brokers)), { maxBytes: 900_000, deadlineMs: 3_000 });

describe.each([
  ['kafkajs', (brokers: readonly string[]) => kafkajsProducer(options(brokers))],
  ['kafkajs + coalescing', productionProducer],
] as const)('through %s to the test broker', (_name, factory) => {
  let producer: KafkaProducer;
  beforeAll(() => {
    producer = factory(kafkaBrokers());
  });
  afterAll(() => producer.close());

  test('post → consume like seed 000: JSON.parse(value).transaction_id, the metadata in headers', async () => {
    const dataset = await privateDataset(financialTransactions);
    const core = coreFor(producer, [dataset]);
    const record = { ...exampleRecord(dataset), transaction_id: uniqueName('txn'), unknown_field: 'dropped' };
    const before = Date.now();
    const { response } = await core({ ...post(dataset.route, record), requestId: 'req-it-1' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      message: 'Financial transaction ingested successfully',
      transaction_id: record.transaction_id,
    });

    const [message] = await consume(`raw_${dataset.name}`, 1);
    expect(message?.key?.toString()).toBe(record.transaction_id);
    const consumed = JSON.parse(message?.value?.toString() ?? '');
    expect(consumed.transaction_id).toBe(record.transaction_id);
    const { unknown_field: _, ...declared } = record;
    expect(consumed).toEqual({ ...declared, timestamp: '2024-01-15T10:30:00.123456Z' });
    const headers = headersOf(message as ConsumedMessage);
    expect(headers).toEqual({
      'ingest-time': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      'request-id': 'req-it-1',
      'schema-version': '1',
      'content-type': 'application/json',
      dataset: dataset.name,
    });
    expect(Date.parse(headers['ingest-time'] ?? '')).toBeGreaterThanOrEqual(before - 1);
  });

  test('a batch of 500 lands as 500 messages; equal keys share a partition', async () => {
    const dataset = await privateDataset(insuranceClaims);
    const core = coreFor(producer, [dataset]);
    const records = Array.from({ length: 500 }, (_, i) => ({
      ...exampleRecord(dataset),
      claim_id: `clm-${i % 50}`,
    }));
    const { response } = await core(post(batchRouteOf(dataset), { records }));
    expect(response.statusCode).toBe(200);
    const messages = await consume(`raw_${dataset.name}`, 500);
    expect(messages).toHaveLength(500);
    const partitionOf = new Map<string, Set<number>>();
    for (const m of messages) {
      const key = m.key?.toString() ?? '';
      partitionOf.set(key, (partitionOf.get(key) ?? new Set()).add(m.partition));
    }
    expect(partitionOf.size).toBe(50);
    expect([...partitionOf.values()].every((p) => p.size === 1)).toBe(true);
    expect(new Set(messages.map((m) => m.partition)).size).toBeGreaterThan(1);
  });

  test('/health is 200 connected', async () => {
    const core = coreFor(producer);
    const { response } = await core(get('/health'));
    expect([response.statusCode, JSON.parse(response.body)]).toEqual([
      200,
      { status: 'healthy', kafka_status: 'connected' },
    ]);
  });
});

describe('the Lambda handler with API Gateway events, on the platform topics', () => {
  const context = { awsRequestId: 'lambda-req-1', functionName: 'ingest' } as Context;
  let handler: typeof import('../../../lambdas/ingest/handler').handler;
  let closeHandler: typeof import('../../../lambdas/ingest/handler').closeHandler;

  beforeAll(async () => {
    process.env.KAFKA_BROKERS = kafkaBrokers().join(',');
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
    ({ handler, closeHandler } = await import('../../../lambdas/ingest/handler'));
  });
  afterAll(() => closeHandler());

  test.each([
    ['post-financial-transaction', 'raw_financial_transactions', 'transaction_id'],
    ['post-financial-transaction-trailing-slash', 'raw_financial_transactions', 'transaction_id'],
    ['post-insurance-claim-base64', 'raw_insurance_claims', 'claim_id'],
  ] as const)('%s → 200 and on %s with the API Gateway request id', async (name, topic, idField) => {
    const event = API_EVENTS[name]();
    const id = uniqueName('fx');
    const record = JSON.parse(
      event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString() : (event.body ?? ''),
    );
    record[idField] = id;
    const body = JSON.stringify(record);
    event.body = event.isBase64Encoded ? Buffer.from(body).toString('base64') : body;
    const response = await handler(event, context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)[idField]).toBe(id);
    const [message] = await consume(topic, 1, (m) => m.key?.toString() === id);
    // The record in its canonical form (date-times in UTC with microseconds), flat; metadata in headers.
    const value = JSON.parse(message?.value?.toString() ?? '');
    const canonical = createRegistry().byTopic(topic)?.accept(record);
    expect(canonical?.ok && value).toEqual(canonical?.ok && canonical.record);
    expect(value.timestamp).toMatch(/^2026-11-22T00:41:55\.\d{6}Z$/);
    expect(headersOf(message as ConsumedMessage)['request-id']).toBe(event.requestContext.requestId);
  });

  test.each([
    ['get-root', 200, { message: 'Welcome to Financial/Insurance Data Ingestor API!' }],
    ['get-health', 200, { status: 'healthy', kafka_status: 'connected' }],
    ['get-unknown-route', 404, { detail: 'Not Found' }],
    ['get-ingest-financial-transaction', 405, { detail: 'Method Not Allowed' }],
    ['post-form-encoded', 415, { detail: expect.stringMatching(/Unsupported media type/) }],
  ] as const)('%s → %i', async (name, status, body) => {
    const response = await handler(API_EVENTS[name](), context);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual(body);
  });

  test('invalid record → 422 whose text says "validation error", one detail entry per problem (any currency text passes, as before)', async () => {
    const response = await handler(API_EVENTS['post-financial-transaction-invalid'](), context);
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('validation error');
    expect(JSON.parse(response.body).detail.map((d: { loc: string[] }) => d.loc)).toEqual([
      ['body', 'timestamp'],
      ['body', 'amount'],
    ]);
  });

  test('malformed JSON → 422 (json_invalid, as FastAPI); the batch fixture → 207 with per-record results', async () => {
    expect((await handler(API_EVENTS['post-malformed-json'](), context)).statusCode).toBe(422);
    const batch = await handler(API_EVENTS['post-financial-transactions-batch'](), context);
    expect(batch.statusCode).toBe(207);
    expect(JSON.parse(batch.body).results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
      'rejected',
    ]);
  });

  test('GET /openapi.json', async () => {
    const response = await handler(API_EVENTS['get-openapi'](), context);
    expect(JSON.parse(response.body).openapi).toBe('3.1.0');
  });
});

describe('a dead broker gives 503 within seconds, never a hang', () => {
  test.each([
    ['kafkajs', (brokers: readonly string[]) => kafkajsProducer(options(brokers))],
    ['kafkajs + coalescing', productionProducer],
  ] as const)('%s: nothing listening on the port', async (_name, factory) => {
    const producer = factory([`127.0.0.1:${await freePort()}`]);
    const core = coreFor(producer);
    try {
      for (const request of [
        post(financialTransactions.route, exampleRecord(financialTransactions)),
        get('/health'),
      ]) {
        const started = Date.now();
        const { response } = await core(request);
        expect(response.statusCode).toBe(503);
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    } finally {
      await producer.close();
    }
  });

  describe('a broker stopped while the producer is connected', () => {
    let broker: KafkaBroker | undefined;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ingest-broker-'));
      broker = await startKafka({
        dir,
        port: await freePort(),
        controllerPort: await freePort(),
        heap: '256m',
      });
    }, 120_000);
    afterAll(async () => {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('200 while it is up, 503 within seconds once it is gone', async () => {
      const brokers = broker?.brokers ?? [];
      const admin = testKafka({ brokers }).admin();
      await admin.connect();
      const dataset = { ...financialTransactions, name: uniqueName('stop').replace(/-/g, '_') };
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: `raw_${dataset.name}`, numPartitions: 1 }],
      });
      await admin.disconnect();
      const producers = [kafkajsProducer(options(brokers)), productionProducer(brokers)];
      const cores = producers.map((producer) => coreFor(producer, [dataset]));
      try {
        for (const core of cores) {
          expect((await core(post(dataset.route, exampleRecord(dataset)))).response.statusCode).toBe(200);
        }
        await broker?.stop();
        for (const core of cores) {
          const started = Date.now();
          const { response } = await core(post(dataset.route, exampleRecord(dataset)));
          expect(response.statusCode).toBe(503);
          expect(Date.now() - started).toBeLessThan(5_000);
        }
      } finally {
        await Promise.all(producers.map((p) => p.close()));
      }
    });
  });
});
