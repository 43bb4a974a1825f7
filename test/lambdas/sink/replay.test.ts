import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { s3Writer } from '../../../lambdas/sink/aws';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../../../lambdas/sink/config';
import type { KafkaOnFailureRecord, ReplaySummary } from '../../../lambdas/sink/replay';
import { environmentConfig } from '../../../lib/config/environments';
import {
  type EventSourceMapping,
  groupOf,
  type MskHandler,
  startEventSourceMapping,
} from '../../../localstack/runtime/event-source-mapping/event-source-mapping';
import { waitFor } from '../../../localstack/services/process';
import { type S3FaultProxy, startS3FaultProxy } from '../../../localstack/services/s3-fault-proxy';
import {
  awsClientConfig,
  awsEndpoint,
  createTestBucket,
  kafkaBrokers,
  testKafka,
  uniqueName,
} from '../../support/services';
import { createRawCatalog, ingestedHeaders, queryParquet, TOPIC, transaction } from './support';

/**
 * S3 failing for longer than the retry budget, locally, end to end: the real sink handler behind the local
 * event source mapping writes through a fault proxy that fails every request; after `maxRetryAttempts` the
 * mapping writes Lambda's on-failure invocation record to the quarantine bucket and commits past the batch.
 * Then S3 is back and `npm run replay` (the script, in its own process) brings every record into raw
 * exactly once; a second replay changes nothing.
 */
const ROOT = resolve(__dirname, '..', '..', '..');
const run = uniqueName('replay').replace(/-/g, '_');
const RECORDS = 240;
const BATCH = 40;
const s3 = new S3Client(awsClientConfig());
const glue = new GlueClient(awsClientConfig());
let rawBucket: string;
let quarantineBucket: string;
let proxy: S3FaultProxy;
let esm: EventSourceMapping | undefined;

async function list(bucket: string, prefix = ''): Promise<{ key: string; etag: string }[]> {
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Contents.map((o) => ({ key: o.Key ?? '', etag: o.ETag ?? '' })).sort((a, b) =>
    a.key.localeCompare(b.key),
  );
}

async function read(bucket: string, key: string): Promise<Uint8Array> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await Body?.transformToByteArray()) ?? new Uint8Array();
}

async function replay(...args: string[]): Promise<ReplaySummary> {
  const { AWS_ENDPOINT_URL_S3: _, ...env } = process.env;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/replay.ts', '--bucket', quarantineBucket, ...args],
    { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ReplaySummary;
}

beforeAll(async () => {
  rawBucket = await createTestBucket('raw');
  quarantineBucket = await createTestBucket('quarantine');
  await createRawCatalog(glue, run, rawBucket);
  proxy = await startS3FaultProxy({ target: awsEndpoint() });
  Object.assign(process.env, {
    [RAW_BUCKET]: rawBucket,
    [QUARANTINE_BUCKET]: quarantineBucket,
    [GLUE_DATABASE]: run,
    // The handler's S3 client goes through the proxy; everything else talks to the emulator directly.
    AWS_ENDPOINT_URL_S3: proxy.url,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});

afterAll(async () => {
  await esm?.stop();
  await proxy?.close();
  s3.destroy();
  glue.destroy();
});

it('gives a batch up to the on-failure destination after the retry budget, and replay brings every record in exactly once', async () => {
  const { handler } = (await import('../../../lambdas/sink/handler')) as { handler: MskHandler };
  const groupPrefix = uniqueName('replay-esm');
  const admin = testKafka().admin();
  await admin.connect();
  // The group starts at the current end of the shared topic: only this test's records are delivered.
  const ends = await admin.fetchTopicOffsets(TOPIC);
  await admin.setOffsets({
    groupId: groupOf(groupPrefix, TOPIC),
    topic: TOPIC,
    partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
  });

  proxy.set({ errorShare: 1 });
  const givenUp: number[] = [];
  esm = await startEventSourceMapping({
    brokers: kafkaBrokers(),
    topics: [TOPIC],
    groupPrefix,
    sink: {
      ...environmentConfig('local').sink,
      batchSize: BATCH,
      maxBatchingWindowSeconds: 0.2,
      maxRetryAttempts: 2,
    },
    backoff: { initialMs: 10, maxMs: 50 },
    handler,
    onFailure: { bucket: quarantineBucket, writer: s3Writer(s3) },
    onGiveUp: (_topic, records) => givenUp.push(records),
    log: () => {},
  });

  // Spread over four event hours across a day boundary, on every partition.
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: Array.from({ length: RECORDS }, (_, i) => ({
      key: `${run}-${i}`,
      partition: i % ends.length,
      value: JSON.stringify(
        transaction(`${run}-${i}`, new Date(Date.UTC(2024, 2, 1, 22 + (i % 4), i % 60)).toISOString()),
      ),
      headers: ingestedHeaders({ request_id: run }),
    })),
  });
  await producer.disconnect();

  await waitFor(() => givenUp.reduce((a, b) => a + b, 0) === RECORDS, {
    timeoutMs: 120_000,
    intervalMs: 100,
    what: `all ${RECORDS} records given up to the on-failure destination`,
  });
  // ... and committed past them, as Lambda does: the mapping moves on.
  await waitFor(
    async () => {
      const [committed] = await admin.fetchOffsets({ groupId: groupOf(groupPrefix, TOPIC), topics: [TOPIC] });
      const done = committed?.partitions.reduce((sum, p) => sum + Number(p.offset), 0) ?? 0;
      return done === ends.reduce((sum, p) => sum + Number(p.high), 0) + RECORDS;
    },
    { timeoutMs: 30_000, what: 'offsets committed past the given-up batches' },
  );
  await esm.stop();
  esm = undefined;
  await admin.disconnect();
  expect(await list(rawBucket)).toEqual([]);
  expect(proxy.counts().failed).toBeGreaterThan(0);

  // Lambda's record, at Lambda's place: aws/lambda/<ESM UUID>/<topic>-<partition>/YYYY/MM/DD/<time>-<uuid>.
  const failed = await list(quarantineBucket, 'aws/lambda/');
  expect(failed.length).toBe(givenUp.length);
  for (const { key } of failed) {
    expect(key).toMatch(
      new RegExp(
        `^aws/lambda/[0-9a-f-]{36}/${TOPIC}-\\d/\\d{4}/\\d{2}/\\d{2}/\\d{4}-\\d{2}-\\d{2}T\\d{2}\\.\\d{2}\\.\\d{2}-[0-9a-f-]{36}$`,
      ),
    );
  }
  const [first] = failed;
  const record = JSON.parse(
    new TextDecoder().decode(await read(quarantineBucket, first?.key ?? '')),
  ) as KafkaOnFailureRecord;
  const group = first?.key.split('/')[3] ?? '';
  expect(record).toMatchObject({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    KafkaBatchInfo: { bootstrapServers: kafkaBrokers().join(','), eventSourceArn: expect.any(String) },
  });
  const info = record.KafkaBatchInfo.recordsInfo[group];
  const payload = JSON.parse(record.payload ?? '') as { records: Record<string, { offset: number }[]> };
  const offsets = payload.records[group]?.map((r) => r.offset) ?? [];
  expect(Object.keys(record.KafkaBatchInfo.recordsInfo)).toEqual([group]);
  expect(record.KafkaBatchInfo.batchSize).toBe(offsets.length);
  expect([info?.firstRecordOffset, info?.lastRecordOffset]).toEqual([
    String(offsets[0]),
    String(offsets.at(-1)),
  ]);
  expect(info?.firstRecordTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

  // S3 is back. A dry run only reports.
  proxy.set({ errorShare: 0 });
  const dry = await replay('--dry-run');
  expect(dry).toMatchObject({ batches: failed.length, replayed: 0, recordsNamed: RECORDS });
  expect(await list(rawBucket)).toEqual([]);

  const summary = await replay('--verbose');
  console.log(
    `replay: ${summary.recordsRecovered} records in ${summary.replayed} batches recovered in ${summary.durationMs} ms`,
  );
  expect(summary).toMatchObject({
    batches: failed.length,
    replayed: failed.length,
    leftInPlace: 0,
    recordsNamed: RECORDS,
    recordsRecovered: RECORDS,
    recordsMissing: 0,
  });
  expect(await list(quarantineBucket, 'aws/lambda/')).toEqual([]);
  expect((await list(quarantineBucket, 'replayed/aws/lambda/')).length).toBe(failed.length);

  const raw = await list(rawBucket);
  const bodies = await Promise.all(raw.map(({ key }) => read(rawBucket, key)));
  const [counts] = await queryParquet(
    bodies,
    `SELECT count(*) AS n, count(DISTINCT (_kafka_partition, _kafka_offset)) AS coordinates,
            count(DISTINCT transaction_id) AS ids
     FROM read_parquet({files}) WHERE _request_id = '${run}'`,
  );
  expect(counts).toEqual({ n: String(RECORDS), coordinates: String(RECORDS), ids: String(RECORDS) });

  // Running it again changes nothing.
  const again = await replay();
  expect(again).toMatchObject({ batches: 0, replayed: 0, recordsRecovered: 0 });
  expect(await list(rawBucket)).toEqual(raw);
}, 240_000);
