import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import type { Consumer } from 'kafkajs';
import { readIngestConfig } from '../../lambdas/ingest/config';
import { createIngestCore, type IngestCore } from '../../lambdas/ingest/core';
import type { KafkaProducer } from '../../lambdas/ingest/kafka/producer';
import { ingestProducer } from '../../lambdas/ingest/producer';
import { s3Writer } from '../../lambdas/sink/aws';
import { type KafkaRecord, sinkBatch } from '../../lambdas/sink/core';
import { hyparquetEncoder } from '../../lambdas/sink/parquet';
import { rawTableName } from '../../lib/config/lake';
import { provisionCatalog } from '../../localstack/services/emulator/provision';
import { waitFor } from '../../localstack/services/process';
import { deltaLiveFiles } from '../../localstack/tools/lake/inventory';
import { getBytes, listObjects, readParquetRows } from '../../localstack/tools/lake/objects';
import { runJob } from '../../localstack/tools/spark/run';
import {
  createRegistry,
  type DatasetDefinition,
  type DatasetRegistry,
  financialTransactions,
  topicOf,
} from '../../schemas';
import { compileValidator } from '../../schemas/ajv-compile';
import { batchRouteOf } from '../../schemas/api/openapi';
import { sparkSchemaText } from '../../scripts/generate-schemas';
import { financialTransactionsV2 } from '../support/evolution';
import {
  awsClientConfig,
  createTestBucket,
  createTestTopic,
  kafkaBrokers,
  servicesEnv,
  testKafka,
  uniqueName,
} from '../support/services';

/**
 * Item 7 of issue 12: an optional field is added to financial_transactions mid-stream on the local
 * platform. Records go through the real ingest core (kafkajs on the test broker), the real sink core
 * (Parquet to the emulator's S3) and the real Glue scripts in local Spark, in the rollout order the
 * README gives: v1 everywhere; then the sink and the jobs with v2; then the API with v2, while a producer
 * still sends v1. Both versions reach curated, the rows of v1 have the new column null, no job fails.
 */
jest.setTimeout(600_000);

const dataset = financialTransactions.name;
const v2 = financialTransactionsV2;
let s3: S3Client;
let rawBucket: string;
let lakeBucket: string;
let testTopic: string;
let producer: KafkaProducer;
let consumer: Consumer;
const consumed: KafkaRecord[] = [];
const env = servicesEnv();
const logFile = join(mkdtempSync(join(tmpdir(), 'evolution-')), 'spark.log');

beforeAll(async () => {
  s3 = new S3Client({});
  [rawBucket, lakeBucket] = await Promise.all([createTestBucket('evo-raw'), createTestBucket('evo-lake')]);
  // The broker is shared with test files running in parallel: this file's messages go to a topic of its
  // own and reach the sink under the dataset's topic name, as the event source mapping would deliver them.
  testTopic = await createTestTopic('evolution');
  const real = ingestProducer(readIngestConfig({ KAFKA_BROKERS: kafkaBrokers().join(',') }).kafka);
  producer = { ...real, send: (_topic, messages) => real.send(testTopic, messages) };
  consumer = testKafka().consumer({ groupId: uniqueName('evolution') });
  await consumer.connect();
  await consumer.subscribe({ topic: testTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      consumed.push({
        topic: topicOf(financialTransactions),
        partition,
        offset: Number(message.offset),
        timestamp: Number(message.timestamp),
        key: message.key?.toString('utf8') ?? null,
        value: message.value?.toString('utf8') ?? null,
        headers: Object.entries(message.headers ?? {}).map(([name, value]) => ({ [name]: String(value) })),
      });
    },
  });
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.close();
  s3?.destroy();
});

const registryOf = (definition: DatasetDefinition) =>
  createRegistry([definition], { compile: compileValidator });

function api(registry: DatasetRegistry): IngestCore {
  return createIngestCore({
    registry,
    producer,
    clock: Date.now,
    limits: { maxBodyBytes: 1_048_576, maxBatchRecords: 500 },
  });
}

/** The whole-hour event time an hour ago, as a Python producer sends it (naive ISO-8601 means UTC). */
const eventTime = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000)
  .toISOString()
  .slice(0, 19);

function txn(id: string, extra: Record<string, unknown> = {}) {
  return {
    transaction_id: id,
    timestamp: eventTime,
    account_id: 'acc-1',
    amount: 12.5,
    currency: 'EUR',
    transaction_type: 'debit',
    category: 'groceries',
    ...extra,
  };
}

async function postBatch(core: IngestCore, records: object[], headers: Record<string, string> = {}) {
  const { response } = await core({
    method: 'POST',
    path: batchRouteOf(financialTransactions),
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ records }),
    isBase64Encoded: false,
    requestId: uniqueName('req'),
  });
  expect(response.statusCode).toBe(200);
}

/** Hands every message consumed since `from` to the sink core of this registry, as one batch. */
async function sink(registry: DatasetRegistry, from: number, count: number) {
  await waitFor(() => consumed.length >= from + count, {
    timeoutMs: 30_000,
    what: `${count} messages consumed (have ${consumed.length - from})`,
  });
  return sinkBatch(consumed.slice(from, from + count), {
    registry,
    writer: s3Writer(s3),
    catalog: { registerPartitions: async () => {} },
    encoder: hyparquetEncoder,
    clock: Date.now,
    settings: { rawBucket, quarantineBucket: lakeBucket, glueDatabase: 'unused' },
  });
}

/** Runs a Glue script in local Spark with the dataset schema of `definition` (--schema_uri). */
async function job(script: string, definition: DatasetDefinition, args: Record<string, string>) {
  const schemaDir = mkdtempSync(join(tmpdir(), 'evolution-schema-'));
  writeFileSync(join(schemaDir, `${dataset}.schema.json`), sparkSchemaText(definition));
  const lake = `s3://${lakeBucket}`;
  const status = await runJob(
    script,
    { '--dataset': dataset, '--schema_uri': schemaDir, '--state_uri': `${lake}/state`, ...args },
    env,
    logFile,
  );
  expect({ script, status, log: status === 0 ? '' : logFile }).toEqual({ script, status: 0, log: '' });
}

const rawToCurated = (definition: DatasetDefinition) =>
  job('raw_to_curated.py', definition, {
    '--raw_uri': `s3://${rawBucket}`,
    '--curated_uri': `s3://${lakeBucket}/curated`,
    '--quarantine_uri': `s3://${lakeBucket}/quarantine/curated`,
  });
const curatedToGold = (definition: DatasetDefinition) =>
  job('curated_to_gold.py', definition, {
    '--curated_uri': `s3://${lakeBucket}/curated`,
    '--gold_uri': `s3://${lakeBucket}/gold`,
    '--min_group_count': '1',
  });

/** The curated table: its columns (the Delta log's latest schema) and its rows by id. */
async function curated() {
  const prefix = `curated/${dataset}`;
  const commits = (await listObjects(s3, lakeBucket, `${prefix}/_delta_log/`))
    .filter((o) => o.key.endsWith('.json'))
    .sort((a, b) => a.key.localeCompare(b.key));
  let columns: string[] = [];
  for (const commit of commits) {
    for (const line of Buffer.from(await getBytes(s3, lakeBucket, commit.key))
      .toString('utf8')
      .split('\n')) {
      const schema = line.trim() && (JSON.parse(line) as { metaData?: { schemaString: string } }).metaData;
      if (schema)
        columns = (JSON.parse(schema.schemaString) as { fields: { name: string }[] }).fields.map(
          (f) => f.name,
        );
    }
  }
  const live = (await deltaLiveFiles(s3, lakeBucket, 'curated/')).get(prefix) ?? new Map();
  const rows = (
    await Promise.all([...live.keys()].map((file) => readParquetRows(s3, lakeBucket, `${prefix}/${file}`)))
  ).flat();
  // A file written before the column existed lacks it: Delta reads it as null.
  const byId = new Map(
    rows.map((r) => [String(r.transaction_id), { channel: r.channel ?? null, version: r._schema_version }]),
  );
  return { columns, byId };
}

it('adds an optional field mid-stream: v1 and v2 records reach curated, old rows null, no job fails', async () => {
  // 1. Everything on v1. A producer already sending the new field: v1 ignores it, as any unknown field.
  const v1Registry = registryOf(financialTransactions);
  await postBatch(api(v1Registry), [txn('v1-a'), txn('v1-b', { channel: 'early' })]);
  expect(await sink(v1Registry, 0, 2)).toMatchObject({ written: 2, quarantined: 0 });
  await rawToCurated(financialTransactions);
  await curatedToGold(financialTransactions);
  const before = await curated();
  expect(before.columns).not.toContain('channel');
  expect([...before.byId.keys()].sort()).toEqual(['v1-a', 'v1-b']);

  // 2. The rollout: the sink and the jobs first, then the API. A producer not yet migrated keeps sending
  // v1 (X-Schema-Version: 1); the others send the new field with no header (the latest).
  const v2Registry = registryOf(v2);
  const v2Api = api(v2Registry);
  await postBatch(v2Api, [txn('v1-c', { channel: 'ignored by v1' })], { 'x-schema-version': '1' });
  await postBatch(v2Api, [txn('v2-a', { channel: 'web' }), txn('v2-b'), txn('v1-a', { channel: 'app' })]);
  const summary = await sink(v2Registry, 2, 4);
  expect(summary).toMatchObject({ written: 4, quarantined: 0 });
  expect(summary.rawFiles.map((f) => f.rows)).toEqual([1, 3]); // one file per version
  await rawToCurated(v2);
  await curatedToGold(v2);

  const after = await curated();
  expect(after.columns).toEqual(expect.arrayContaining(['channel', ...before.columns]));
  expect(Object.fromEntries(after.byId)).toEqual({
    'v1-a': { channel: 'app', version: 2 }, // updated by a v2 record
    'v1-b': { channel: null, version: 1 },
    'v1-c': { channel: null, version: 1 },
    'v2-a': { channel: 'web', version: 2 },
    'v2-b': { channel: null, version: 2 },
  });
  // Gold aggregates what it aggregated before: the new column is not one of its inputs.
  const gold = await listObjects(s3, lakeBucket, 'gold/');
  expect(gold.some((o) => o.key.includes('/_delta_log/'))).toBe(true);
});

it('the local catalog takes the new column when the platform restarts, as a CDK deploy updates Glue', async () => {
  const glue = new GlueClient(awsClientConfig());
  const database = uniqueName('evo').replace(/-/g, '_');
  const columns = async () =>
    (
      await glue.send(new GetTableCommand({ DatabaseName: database, Name: rawTableName(dataset) }))
    ).Table?.StorageDescriptor?.Columns?.map((c) => c.Name);
  try {
    await provisionCatalog(glue, database, rawBucket, [financialTransactions]);
    expect(await columns()).not.toContain('channel');
    await provisionCatalog(glue, database, rawBucket, [v2]);
    expect(await columns()).toContain('channel');
  } finally {
    glue.destroy();
  }
});
