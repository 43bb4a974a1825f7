import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { environmentConfig } from '../../../lib/config/environments';
import { type Pipeline, startPipeline } from '../../../localstack/runtime/pipeline';
import { provisionCatalog } from '../../../localstack/services/emulator/provision';
import { listObjects, readParquetRows } from '../../../localstack/tools/lake/objects';
import { DATASETS } from '../../../schemas';
import { runSmoke, type SmokeTarget } from '../../../scripts/smoke/core';
import { awsClientConfig, createTestBucket, servicesEnv, uniqueName } from '../../support/services';

/**
 * `npm run smoke`'s core against the local platform (real ingest handler behind the local API, real
 * broker, the local event source mapping and sink, moto S3), started as the e2e test starts it, with
 * buckets of its own. The broker's topics are shared with other test files, so raw objects may also hold
 * their records: the smoke test must then keep those objects.
 */
jest.setTimeout(60_000);

let pipeline: Pipeline;
let target: SmokeTarget;
const SLO_MS = environmentConfig('local').alarms.ingestLatencyP99Ms;

beforeAll(async () => {
  const s3 = new S3Client(awsClientConfig());
  const [rawBucket, quarantineBucket] = await Promise.all([
    createTestBucket('raw'),
    createTestBucket('quar'),
  ]);
  const glueDatabase = uniqueName('smoke').replace(/-/g, '_');
  const glue = new GlueClient(awsClientConfig());
  await provisionCatalog(glue, glueDatabase, rawBucket).finally(() => glue.destroy());
  pipeline = await startPipeline({
    services: servicesEnv(),
    apiPort: 0,
    rawBucket,
    quarantineBucket,
    glueDatabase,
    groupPrefix: uniqueName('smoke-sink'),
  });
  target = { apiUrl: pipeline.api.url, s3, rawBucket, quarantineBucket };
});

afterAll(async () => {
  await pipeline?.stop();
  target?.s3.destroy();
});

const options = { datasets: DATASETS, validPerDataset: 8, invalidPerDataset: 3, sloMs: SLO_MS, pollMs: 100 };

it('posts tagged records, finds every accepted one in raw Parquet, none rejected in the lake, and cleans up', async () => {
  const report = await runSmoke(target, { ...options, timeoutMs: 30_000 });
  console.log(
    `smoke on the local platform: accept → raw p50 ${report.latencyMs?.p50} ms, max ${report.latencyMs?.max} ms ` +
      `(SLO ${SLO_MS} ms ${report.withinSlo ? 'met' : 'missed'}), ${report.deletedObjects} objects deleted, ${report.sharedObjects} shared kept`,
  );
  expect(report).toMatchObject({
    accepted: DATASETS.length * 8,
    rejected: DATASETS.length * 3,
    arrived: DATASETS.length * 8,
    unexpectedAnswers: [],
    missing: [],
    rejectedInLake: [],
    quarantined: [],
    ok: true,
  });
  expect(report.deletedObjects + report.sharedObjects).toBeGreaterThan(0);

  // No object holding only the run's records is left; objects shared with others' records are untouched.
  const tagged = (id: string) => id.includes(`-${report.tag}-`);
  for (const dataset of DATASETS) {
    for (const object of await listObjects(target.s3, target.rawBucket, `${dataset.name}/`)) {
      const ids = (await readParquetRows(target.s3, target.rawBucket, object.key, [dataset.idField])).map(
        (r) => String(r[dataset.idField]),
      );
      if (ids.some(tagged)) expect(ids.every(tagged)).toBe(false);
    }
  }
});

it('fails, naming the missing records, when accepted records never reach the raw zone', async () => {
  await pipeline.stopSink();
  const report = await runSmoke(target, { ...options, timeoutMs: 2_000 });
  expect(report.ok).toBe(false);
  expect(report.arrived).toBe(0);
  expect(report.missing).toHaveLength(report.accepted);
  expect(report.accepted).toBe(DATASETS.length * 8);
});
