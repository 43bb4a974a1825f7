import { GetPartitionsCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { KafkaMessage } from 'kafkajs';
import { glueCatalog } from '../../../lambdas/sink/aws';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../../../lambdas/sink/config';
import type { QuarantineLine } from '../../../lambdas/sink/core';
import { type ConsumedMessage, mskEvent } from '../../../lambdas/sink/msk-event';
import { rawTableName } from '../../../lib/config/lake';
import { financialTransactions } from '../../../schemas';
import {
  awsClientConfig,
  createTestBucket,
  kafkaBrokers,
  testKafka,
  uniqueName,
} from '../../support/services';
import { createRawCatalog, ingestedHeaders, queryParquet, TOPIC, transaction } from './support';

/**
 * Real records through the real broker into the real handler: produced in the ingest envelope to the
 * dataset's topic, consumed and turned into the event the MSK event source mapping delivers, written to
 * the AWS emulator, and read back with DuckDB. Other tests share the topic, so this run's messages are
 * told apart by their keys.
 */
const run = uniqueName('sink').replace(/-/g, '_');
const s3 = new S3Client(awsClientConfig());
const glue = new GlueClient(awsClientConfig());
/** Imported once the environment is set: Powertools reads it when the module loads. */
let handler: typeof import('../../../lambdas/sink/handler').handler;
let rawBucket: string;
let quarantineBucket: string;
const database = run;

interface Produced {
  key: string;
  value: string;
  partition: number;
  headers: Record<string, string>;
}

function produced(): Produced[] {
  const valid = (i: number, timestamp: string, amount: number) => ({
    key: `${run}-txn-${i}`,
    value: JSON.stringify(transaction(`${run}-txn-${i}`, timestamp, amount)),
    headers: ingestedHeaders({ request_id: `${run}-req` }),
  });
  return [
    { ...valid(1, '2024-03-01T09:15:00.123456', 10.25), partition: 0 },
    { ...valid(2, '2024-03-01T09:59:59.999999Z', 0.1), partition: 1 },
    { ...valid(3, '2024-03-01T12:00:00+02:00', 1e6), partition: 0 },
    // a duplicate: the same record sent twice is two Kafka messages, and two raw rows (curated dedupes)
    { ...valid(1, '2024-03-01T09:15:00.123456', 10.25), partition: 0 },
    {
      key: `${run}-invalid`,
      value: JSON.stringify({ ...transaction(`${run}-invalid`, 'not a time'), currency: 'DOLLARS' }),
      partition: 0,
      headers: ingestedHeaders(),
    },
    { key: `${run}-garbage`, value: '\u0000not json', partition: 1, headers: ingestedHeaders() },
    { ...valid(4, '2024-03-01T10:00:00', 99.99), partition: 1 },
    // from another tool: the record alone, no ingest headers
    {
      key: `${run}-plain`,
      value: JSON.stringify(transaction(`${run}-plain`, '2024-03-01T10:30:00')),
      partition: 1,
      headers: {},
    },
  ];
}

/** Consumes the topic from the start until every message of this run has arrived. */
async function consumeRun(expected: number): Promise<ConsumedMessage[]> {
  const consumer = testKafka().consumer({ groupId: `${run}-esm` });
  const mine: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${mine.length} of ${expected} messages arrived`)),
        30_000,
      );
      consumer
        .run({
          eachMessage: async ({
            topic,
            partition,
            message,
          }: {
            topic: string;
            partition: number;
            message: KafkaMessage;
          }) => {
            if (!message.key?.toString().startsWith(run)) return;
            mine.push({ topic, partition, ...message, headers: message.headers ?? {} });
            if (mine.length === expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return mine;
}

async function objects(bucket: string): Promise<Map<string, Uint8Array>> {
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const result = new Map<string, Uint8Array>();
  for (const { Key } of Contents) {
    if (!Key) continue;
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    result.set(Key, (await Body?.transformToByteArray()) ?? new Uint8Array());
  }
  return result;
}

beforeAll(async () => {
  rawBucket = await createTestBucket('raw');
  quarantineBucket = await createTestBucket('quarantine');
  await createRawCatalog(glue, database, rawBucket);
  Object.assign(process.env, {
    [RAW_BUCKET]: rawBucket,
    [QUARANTINE_BUCKET]: quarantineBucket,
    [GLUE_DATABASE]: database,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  ({ handler } = await import('../../../lambdas/sink/handler'));
});

afterAll(() => {
  s3.destroy();
  glue.destroy();
});

it('lands exactly the valid records of a real topic as Parquet, quarantines the rest, and replays idempotently', async () => {
  const messages = produced();
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages,
    });
  } finally {
    await producer.disconnect();
  }
  const consumed = await consumeRun(messages.length);
  const event = mskEvent(consumed, { bootstrapServers: kafkaBrokers().join(',') });
  const context = { functionName: 'sink', awsRequestId: run } as Context;

  await handler(event, context);

  const raw = await objects(rawBucket);
  const keys = [...raw.keys()].sort();
  const offsetOf = (key: string) => consumed.find((m) => m.key?.toString() === key)?.offset;
  expect(keys).toEqual(
    [
      `financial_transactions/event_date=2024-03-01/event_hour=09/raw_financial_transactions+0+${String(offsetOf(`${run}-txn-1`)).padStart(19, '0')}.parquet`,
      `financial_transactions/event_date=2024-03-01/event_hour=09/raw_financial_transactions+1+${String(offsetOf(`${run}-txn-2`)).padStart(19, '0')}.parquet`,
      `financial_transactions/event_date=2024-03-01/event_hour=10/raw_financial_transactions+0+${String(offsetOf(`${run}-txn-3`)).padStart(19, '0')}.parquet`,
      `financial_transactions/event_date=2024-03-01/event_hour=10/raw_financial_transactions+1+${String(offsetOf(`${run}-txn-4`)).padStart(19, '0')}.parquet`,
    ].sort(),
  );
  const query = `SELECT transaction_id, strftime(timestamp, '%Y-%m-%dT%H:%M:%S.%f') AS ts, amount, _request_id,
                        _kafka_partition, _kafka_offset
                 FROM read_parquet({files}) ORDER BY transaction_id, _kafka_offset`;
  const rows = await queryParquet([...raw.values()], query);
  expect(rows.map(({ _kafka_offset: _, ...r }) => r)).toEqual([
    {
      transaction_id: `${run}-plain`,
      ts: '2024-03-01T10:30:00.000000',
      amount: 125.5,
      _request_id: '',
      _kafka_partition: 1,
    },
    {
      transaction_id: `${run}-txn-1`,
      ts: '2024-03-01T09:15:00.123456',
      amount: 10.25,
      _request_id: `${run}-req`,
      _kafka_partition: 0,
    },
    {
      transaction_id: `${run}-txn-1`,
      ts: '2024-03-01T09:15:00.123456',
      amount: 10.25,
      _request_id: `${run}-req`,
      _kafka_partition: 0,
    },
    {
      transaction_id: `${run}-txn-2`,
      ts: '2024-03-01T09:59:59.999999',
      amount: 0.1,
      _request_id: `${run}-req`,
      _kafka_partition: 1,
    },
    {
      transaction_id: `${run}-txn-3`,
      ts: '2024-03-01T10:00:00.000000',
      amount: 1e6,
      _request_id: `${run}-req`,
      _kafka_partition: 0,
    },
    {
      transaction_id: `${run}-txn-4`,
      ts: '2024-03-01T10:00:00.000000',
      amount: 99.99,
      _request_id: `${run}-req`,
      _kafka_partition: 1,
    },
  ]);

  const quarantined = [...(await objects(quarantineBucket)).values()]
    .flatMap((body) => new TextDecoder().decode(body).trim().split('\n'))
    .map((line) => JSON.parse(line) as QuarantineLine)
    .sort((a, b) => a.partition - b.partition);
  expect(quarantined.map((l) => [l.key, l.reason, l.topic, l.partition, l.offset])).toEqual([
    [`${run}-invalid`, 'validation_failed', TOPIC, 0, Number(offsetOf(`${run}-invalid`))],
    [`${run}-garbage`, 'invalid_json', TOPIC, 1, Number(offsetOf(`${run}-garbage`))],
  ]);
  expect(quarantined[1]?.value_base64).toBe(Buffer.from('\u0000not json').toString('base64'));

  const { Partitions = [] } = await glue.send(
    new GetPartitionsCommand({ DatabaseName: database, TableName: rawTableName(financialTransactions.name) }),
  );
  expect(Partitions.map((p) => [p.Values, p.StorageDescriptor?.Location]).sort()).toEqual([
    [['2024-03-01', '09'], `s3://${rawBucket}/financial_transactions/event_date=2024-03-01/event_hour=09/`],
    [['2024-03-01', '10'], `s3://${rawBucket}/financial_transactions/event_date=2024-03-01/event_hour=10/`],
  ]);

  // The mapping retries the same batch: same objects, no duplicate rows, existing partitions are fine.
  await handler(event, context);
  const replayed = await objects(rawBucket);
  expect([...replayed.keys()].sort()).toEqual(keys);
  expect(await queryParquet([...replayed.values()], query)).toEqual(rows);
  expect((await objects(quarantineBucket)).size).toBe(2);

  // A fresh container registering an existing partition again: Glue answers AlreadyExists, which is success.
  await glueCatalog(glue, database, rawBucket).registerPartitions(financialTransactions.name, [
    { date: '2024-03-01', hour: '09' },
  ]);
  const again = await glue.send(
    new GetPartitionsCommand({ DatabaseName: database, TableName: rawTableName(financialTransactions.name) }),
  );
  expect(again.Partitions).toHaveLength(2);
});
