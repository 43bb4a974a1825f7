import { GetPartitionCommand, GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { rawTableName } from '../../lib/config/lake';
import { type Pipeline, startPipeline } from '../../localstack/runtime/pipeline';
import { provisionCatalog } from '../../localstack/services/emulator/provision';
import { waitFor } from '../../localstack/services/process';
import { RecordFactory } from '../../localstack/tools/generator/records';
import { sendRecords } from '../../localstack/tools/generator/send';
import { getBytes, listObjects, readParquetRows } from '../../localstack/tools/lake/objects';
import { RawZone } from '../../localstack/tools/lake/raw-zone';
import { DATASETS, financialTransactions, insuranceClaims, parseTimestampMicros } from '../../schemas';
import { batchRouteOf } from '../../schemas/api/openapi';
import { awsClientConfig, createTestBucket, servicesEnv, uniqueName } from '../support/services';

/**
 * The whole local pipeline against the real test broker and emulator: HTTP → local API → real ingest
 * handler → Kafka → local event source mapping (own process) → real sink handler → raw Parquet in S3,
 * read back with hyparquet. Buckets and consumer groups are unique to this file.
 */
jest.setTimeout(180_000);

let pipeline: Pipeline;
let rawZone: RawZone;
let glueDatabase: string;
let s3: S3Client;

beforeAll(async () => {
  s3 = new S3Client(awsClientConfig());
  const [rawBucket, quarantineBucket] = await Promise.all([
    createTestBucket('raw'),
    createTestBucket('quar'),
  ]);
  // The sink registers partitions in this test's own catalog, created as the platform creates its own.
  glueDatabase = uniqueName('e2e').replace(/-/g, '_');
  const glue = new GlueClient(awsClientConfig());
  await provisionCatalog(glue, glueDatabase, rawBucket).finally(() => glue.destroy());
  pipeline = await startPipeline({
    services: servicesEnv(),
    apiPort: 0,
    rawBucket,
    quarantineBucket,
    glueDatabase,
    groupPrefix: uniqueName('e2e-sink'),
  });
  rawZone = new RawZone(s3, rawBucket, DATASETS);
});

afterAll(async () => {
  await pipeline?.stop();
  s3?.destroy();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${pipeline.api.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Waits until every id is in a raw object; returns the raw rows' ids (one entry per row). */
async function waitForIds(ids: readonly string[], timeoutMs: number): Promise<Map<string, number>> {
  const wanted = new Set(ids);
  let counts = new Map<string, number>();
  await waitFor(
    async () => {
      await rawZone.poll();
      counts = new Map();
      for (const row of await rawZone.rows()) {
        if (wanted.has(row.id)) counts.set(row.id, (counts.get(row.id) ?? 0) + 1);
      }
      return counts.size === wanted.size;
    },
    { timeoutMs, intervalMs: 50, what: `${wanted.size} records in raw Parquet (have ${counts.size})` },
  );
  return counts;
}

it('lands posted records in raw Parquet with the values sent, within 5 s', async () => {
  const factory = new RecordFactory({ invalidShare: 0, duplicateShare: 0, runId: uniqueName('v') });
  const transactions = Array.from({ length: 50 }, () => factory.next(financialTransactions.name).body);
  const claim = factory.next(insuranceClaims.name).body;

  const batch = await post(batchRouteOf(financialTransactions), { records: transactions });
  const single = await post(`${insuranceClaims.route}/`, claim);
  const acceptedAt = Date.now();
  expect(batch.status).toBe(200);
  expect(single).toEqual({ status: 200, json: expect.objectContaining({ claim_id: claim.claim_id }) });

  const ids = [...transactions.map((t) => String(t.transaction_id)), String(claim.claim_id)];
  await waitForIds(ids, 5_000);
  expect(Date.now() - acceptedAt).toBeLessThan(5_000);

  // Compare every column of every record with what was sent.
  const keys = new Set((await rawZone.rows()).filter((r) => ids.includes(r.id)).map((r) => r.key));
  const rows = (
    await Promise.all([...keys].map((key) => readParquetRows(s3, pipeline.rawBucket, key)))
  ).flat();
  const byId = new Map(rows.map((r) => [String(r.transaction_id ?? r.claim_id), r]));
  const micros = (text: unknown) => Number((parseTimestampMicros(String(text)) as bigint) / 1000n);
  for (const sent of transactions) {
    const row = byId.get(String(sent.transaction_id)) as Record<string, unknown>;
    expect(row).toMatchObject({
      account_id: sent.account_id,
      amount: sent.amount,
      currency: sent.currency,
      transaction_type: sent.transaction_type,
      merchant_id: sent.merchant_id ?? null,
      category: sent.category ?? null,
      _kafka_topic: 'raw_financial_transactions',
      _schema_version: financialTransactions.schemaVersion,
    });
    expect((row.timestamp as Date).getTime()).toBe(micros(sent.timestamp));
    expect(typeof row._request_id).toBe('string');
    expect((row._ingest_time as Date).getTime()).toBeLessThanOrEqual(acceptedAt);
  }
  const claimRow = byId.get(String(claim.claim_id)) as Record<string, unknown>;
  expect(claimRow).toMatchObject({
    policy_number: claim.policy_number,
    claim_amount: claim.claim_amount,
    claim_type: claim.claim_type,
    claim_status: claim.claim_status,
    customer_id: claim.customer_id,
    _kafka_topic: 'raw_insurance_claims',
  });
  expect((claimRow.incident_date as Date).toISOString().slice(0, 10)).toBe(claim.incident_date);

  // Every raw object's partition is registered in the Glue catalog (Spark and EMR see it, not only Athena).
  const glue = new GlueClient(awsClientConfig());
  try {
    for (const key of keys) {
      const [dataset, date, hour] = key.split('/');
      const { Partition } = await glue.send(
        new GetPartitionCommand({
          DatabaseName: glueDatabase,
          TableName: rawTableName(String(dataset)),
          PartitionValues: [String(date).replace('event_date=', ''), String(hour).replace('event_hour=', '')],
        }),
      );
      expect(Partition?.StorageDescriptor?.Location).toContain(
        `${pipeline.rawBucket}/${dataset}/${date}/${hour}`,
      );
    }
  } finally {
    glue.destroy();
  }

  // The same flow, as /metrics reports it.
  const metrics = await (await fetch(`${pipeline.api.url}/metrics`)).text();
  const value = (line: RegExp) => Number(line.exec(metrics)?.[1] ?? Number.NaN);
  expect(
    value(/^lakehouse_records_produced_total\{dataset="financial_transactions"\} (\d+)/m),
  ).toBeGreaterThanOrEqual(50);
  expect(
    value(/^lakehouse_sink_records_total\{topic="raw_insurance_claims"\} (\d+)/m),
  ).toBeGreaterThanOrEqual(1);
  expect(value(/^lakehouse_lake_objects\{zone="raw"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
  expect(metrics).toMatch(
    /^lakehouse_consumer_lag_messages\{topic="raw_financial_transactions",partition="0"\} \d+/m,
  );
  expect(metrics).toMatch(
    /^lakehouse_api_requests_total\{method="POST",route="\/ingest-insurance-claim",status="200"\} 1$/m,
  );
  expect(value(/^lakehouse_accept_to_parquet_seconds_count (\d+)/m)).toBeGreaterThanOrEqual(51);
});

it('keeps rejected records out of the lake entirely', async () => {
  const runId = uniqueName('rej');
  const factory = new RecordFactory({ invalidShare: 0, duplicateShare: 0, runId });
  const good = Array.from({ length: 20 }, () => factory.next(insuranceClaims.name).body);
  const bad: Record<string, unknown>[] = [
    { ...factory.next(insuranceClaims.name).body, claim_amount: 'minus five' },
    { ...factory.next(insuranceClaims.name).body, timestamp: 'not a time' },
    { ...factory.next(insuranceClaims.name).body, customer_id: undefined },
  ];
  const response = await post(batchRouteOf(insuranceClaims), { records: [...good, ...bad] });
  expect(response.status).toBe(207);
  expect(response.json).toMatchObject({ accepted: 20, rejected: 3 });
  const single = await post(insuranceClaims.route, bad[0]);
  expect(single.status).toBe(422);

  // Once the good records of the same request are in, the bad ones would have been too.
  await waitForIds(
    good.map((g) => String(g.claim_id)),
    5_000,
  );
  const badIds = bad.map((b) => String(b.claim_id));
  const rawIds = new Set((await rawZone.rows()).map((r) => r.id));
  expect(badIds.filter((id) => rawIds.has(id))).toEqual([]);
  for (const object of await listObjects(s3, pipeline.quarantineBucket)) {
    const text = Buffer.from(await getBytes(s3, pipeline.quarantineBucket, object.key)).toString('utf8');
    for (const id of badIds) expect(text).not.toContain(id);
  }
});

it('loses and duplicates nothing when the sink consumer is killed and restarted mid-stream', async () => {
  const count = 6_000;
  const killAfter = 2_000;
  let killed: Promise<void> | undefined;
  const sending = sendRecords({
    apiUrl: pipeline.api.url,
    rate: 2_000,
    count,
    route: 'batch',
    batchSize: 250,
    invalidShare: 0,
    duplicateShare: 0,
    // No client retries: a retried 503 can put a record in Kafka twice, which is the API's at-least-once
    // contract, not the consumer's doing. Each accepted id is then in Kafka exactly once.
    retries: 0,
    runId: uniqueName('kill'),
    onProgress: (tally) => {
      // SIGKILL mid-stream, while records are flowing and an invocation is likely in flight.
      if (!killed && tally.accepted >= killAfter) killed = pipeline.stopSink('kill');
    },
  });
  const tally = await sending;
  expect(tally.accepted).toBeGreaterThan(killAfter);
  expect(killed).toBeDefined();
  await killed;
  expect(pipeline.sink).toBeUndefined();
  await pipeline.startSink();

  const ids = Object.values(tally.byDataset).flatMap((d) => d.acceptedIds);
  expect(ids).toHaveLength(tally.accepted);
  await waitForIds(ids, 60_000);
  // Everything consumed and committed, then one last look at the union of raw files.
  await waitFor(async () => (await pipeline.lag()) === 0, {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'the sink consumer groups to catch up',
  });
  const counts = await waitForIds(ids, 1_000);
  const duplicated = [...counts].filter(([, n]) => n > 1);
  expect(duplicated).toEqual([]);
  expect(counts.size).toBe(tally.accepted);
  // And no Kafka record is in two raw files, whatever the API did.
  const keys = new Set((await rawZone.rows()).map((r) => r.key));
  const coordinates = (
    await Promise.all(
      [...keys].map((key) =>
        readParquetRows(s3, pipeline.rawBucket, key, ['_kafka_topic', '_kafka_partition', '_kafka_offset']),
      ),
    )
  )
    .flat()
    .map((r) => `${r._kafka_topic}/${r._kafka_partition}/${r._kafka_offset}`);
  expect(coordinates.length - new Set(coordinates).size).toBe(0);
});
