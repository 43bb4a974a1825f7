import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runDrill } from '../../../localstack/drill/run';
import { DEFAULT_DIR } from '../../../localstack/services/cli';
import { servicesEnv, uniqueName } from '../../support/services';

/**
 * The disaster recovery drill, small, on the shared test services: in a lake of its own (unique buckets,
 * Glue database and consumer groups), so whatever other suites left in the emulator and the topics does
 * not disturb it; and it counts its own records only (the dataset's topic holds every suite's records: run
 * after test/smoke, the drill used to count smoke's records as its own damage). Curated restored by time
 * travel and raw rebuilt from Kafka, both with nothing lost.
 */
test('the drill restores curated and rebuilds raw with zero loss', async () => {
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
