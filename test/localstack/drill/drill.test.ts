import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runDrill } from '../../../localstack/drill/run';
import { DEFAULT_DIR } from '../../../localstack/services/cli';
import { financialTransactions, ingestHeaders, topicOf } from '../../../schemas';
import { servicesEnv, testKafka, uniqueName } from '../../support/services';

/**
 * What other suites leave on the shared topic, at worst: records the curated quality rules quarantine (event
 * times in the future), enough to block raw_to_curated's gate were the drill to read them.
 */
async function leaveForeignRecords(count: number): Promise<void> {
  const producer = testKafka().producer();
  await producer.connect();
  try {
    const record = Object.fromEntries(
      Object.entries(financialTransactions.fields).map(([n, f]) => [n, f.example]),
    );
    await producer.send({
      topic: topicOf(financialTransactions),
      messages: Array.from({ length: count }, (_, i) => ({
        key: `foreign-${i}`,
        value: JSON.stringify({
          ...record,
          transaction_id: `foreign-${i}`,
          timestamp: '2099-01-01T00:00:00Z',
        }),
        headers: ingestHeaders({
          dataset: financialTransactions.name,
          schema_version: financialTransactions.schemaVersion,
          ingest_time: new Date().toISOString(),
          request_id: 'foreign',
        }),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * The disaster recovery drill, small, on the shared test services: in a lake of its own (unique buckets,
 * Glue database and consumer groups), so whatever other suites left in the emulator and the topics does
 * not disturb it; its sink starts at the end of the shared topic and it counts its own records only (the
 * dataset's topic holds every suite's records: run after other suites, the drill used to count their records
 * as its own damage, and their future-dated records blocked its raw_to_curated gate). Curated restored by
 * time travel and raw rebuilt from Kafka, both with nothing lost.
 */
test('the drill restores curated and rebuilds raw with zero loss, whatever else is on the shared topic', async () => {
  await leaveForeignRecords(300);
  const logDir = join(DEFAULT_DIR, `drill-test-${process.pid}`);
  const lakePrefix = uniqueName('drill');
  const report = await runDrill({
    services: servicesEnv(),
    records: 200,
    logDir,
    log: () => undefined,
    lakePrefix,
  });
  rmSync(logDir, { recursive: true, force: true }); // kept when the drill fails: its Spark log says why
  expect(report.lakePrefix).toBe(lakePrefix);
  expect(report.accepted).toBe(200);
  for (const scenario of report.scenarios) {
    expect(scenario).toMatchObject({ rpoRecords: 0, damaged: 200, verified: true });
  }
  expect(report.passed).toBe(true);
}, 240_000);
