import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runDrill } from '../../localstack/drill/run';
import { DEFAULT_DIR } from '../../localstack/services';
import { servicesEnv } from '../support/services';

/**
 * The disaster recovery drill, small, on the test services (the local environment's buckets, which this
 * file alone writes): curated restored by time travel and raw rebuilt from Kafka, both with nothing lost.
 */
test('the drill restores curated and rebuilds raw with zero loss', async () => {
  const logDir = join(DEFAULT_DIR, `drill-test-${process.pid}`);
  const report = await runDrill({
    services: servicesEnv(),
    records: 200,
    logDir,
    log: () => undefined,
  }).finally(() => rmSync(logDir, { recursive: true, force: true }));
  expect(report.accepted).toBe(200);
  for (const scenario of report.scenarios) {
    expect(scenario).toMatchObject({ rpoRecords: 0, damaged: 200, verified: true });
  }
  expect(report.passed).toBe(true);
}, 240_000);
