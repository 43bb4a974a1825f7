import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChaosReport, runChaos } from '../../../localstack/chaos/run';
import { generateSchedule } from '../../../localstack/chaos/schedule';

/**
 * The bounded chaos scenario of `npm test` (`npm run chaos` is the long one): a three-node KRaft cluster
 * with production topic settings under mixed single and batch load, one broker SIGKILLed (the partition
 * leader), one sink process SIGKILLed between two object writes of a batch, one burst of S3 errors; then
 * every id the API accepted must be in raw Parquet, nothing answered 4xx may be in the lake, and each
 * fault must have been recovered from.
 */
jest.setTimeout(420_000);

let dir: string;
let report: ChaosReport;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chaos-'));
  report = await runChaos({
    records: 4_000,
    rate: 200,
    brokers: 3,
    seed: 7,
    schedule: [
      { atMs: 3_000, kind: 'broker-kill', node: 'leader' },
      { atMs: 9_000, kind: 'sink-kill', when: 'between-writes' },
      { atMs: 13_000, kind: 's3-errors', durationMs: 2_000, share: 0.6 },
    ],
    s3ErrorShare: 0.02,
    s3LatencyMs: 10,
    singleShare: 0.3,
    batchSize: 50,
    clients: 16,
    invalidShare: 0.02,
    spark: false,
    dir,
    log: () => {},
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('every record the API accepted is in raw Parquet, whatever failed', () => {
  expect(report.load.accepted).toBeGreaterThan(3_000);
  expect(report.load.unanswered).toBe(0);
  expect(report.raw.lost).toBe(0);
  expect(report.raw.present).toBe(report.load.accepted);
});

test('nothing the API refused reached the lake', () => {
  expect(report.load.rejected).toBeGreaterThan(0);
  expect(report.raw.rejectedFound).toBe(0);
  expect(report.sinkQuarantine.rejectedFound).toBe(0);
});

test('each fault was injected and recovered from, and the supervisor restarted what was killed', () => {
  expect(report.faults.map((f) => f.fault.kind)).toEqual(['broker-kill', 'sink-kill', 's3-errors']);
  for (const fault of report.faults) expect(fault.recoveredAfterMs).toBeDefined();
  const brokerKill = report.faults[0];
  // The ingest answered 200 again within seconds of the broker's return (the goal: 10 s).
  expect(brokerKill?.first200AfterLiftMs).toBeLessThan(10_000);
  const restarted = Object.keys(report.restarts);
  expect(restarted.some((name) => name.startsWith('Kafka node'))).toBe(true);
  expect(restarted.some((name) => name.startsWith('event source mapping'))).toBe(true);
  expect(report.passed).toBe(true);
});

test("the latency figure the objective is checked against leaves out exactly the broker kill's writes", () => {
  const { records, outsideBrokerKills } = report.latency;
  expect(outsideBrokerKills.leftOut).toBeGreaterThan(0);
  expect(outsideBrokerKills.records).toBeGreaterThan(0);
  expect(outsideBrokerKills.records + outsideBrokerKills.leftOut).toBe(records);
  expect(outsideBrokerKills.p99Ms).toBeLessThanOrEqual(report.latency.maxMs ?? 0);
});

test('a generated schedule is reproducible from its seed', () => {
  const options = {
    durationMs: 100_000,
    nodes: 3,
    brokerKills: 5,
    brokerFreezes: 2,
    sinkKills: 5,
    apiKills: 1,
    s3Bursts: 1,
  };
  const a = generateSchedule({ ...options, seed: 3 });
  expect(generateSchedule({ ...options, seed: 3 })).toEqual(a);
  expect(generateSchedule({ ...options, seed: 4 })).not.toEqual(a);
  expect(a.filter((f) => f.kind === 'broker-kill')).toHaveLength(5);
  expect(a.filter((f) => f.kind === 'broker-freeze').every((f) => (f.durationMs ?? 0) >= 2_600)).toBe(true);
  expect(a.filter((f) => f.when === 'between-writes').length).toBeGreaterThan(0);
});
