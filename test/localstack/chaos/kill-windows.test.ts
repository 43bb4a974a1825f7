import type { FaultResult } from '../../../localstack/chaos/faults';
import { brokerKillWindows, latencyOutside } from '../../../localstack/chaos/kill-windows';
import { LatencyHistogram, latencyPercentile } from '../../../localstack/tools/lake/latency';

const fault = (
  kind: FaultResult['fault']['kind'],
  at: number,
  more: Partial<FaultResult> = {},
): FaultResult => ({
  fault: { atMs: at, kind } as FaultResult['fault'],
  description: kind,
  target: 'node',
  injectedAtMs: at,
  recovery: '',
  ...more,
});

/** One sink write: its records accepted from `accept` on and written at `written`, each `latencyMs` late. */
function write(accept: number, written: number, latencyMs: number, records = 10) {
  const h = new LatencyHistogram();
  for (let i = 0; i < records; i += 1) h.add(latencyMs, accept, written);
  return h.snapshot();
}

test('a broker kill lasts until the node is in sync and the API answers 200 again, whichever is later', () => {
  const windows = brokerKillWindows(
    [
      fault('broker-kill', 1_000, {
        liftedAfterMs: 2_000,
        first200AfterLiftMs: 3_000,
        recoveredAfterMs: 4_000,
      }),
      fault('broker-kill', 20_000, {
        liftedAfterMs: 1_000,
        first200AfterLiftMs: 500,
        recoveredAfterMs: 6_000,
      }),
      fault('broker-kill', 40_000), // not recovered: until the load's end
      fault('sink-kill', 30_000, { recoveredAfterMs: 9_000 }),
      fault('broker-freeze', 35_000, { recoveredAfterMs: 3_000 }),
    ],
    100_000,
    200_000,
  );
  expect(windows).toEqual([
    { start: 101_000, end: 106_000 },
    { start: 120_000, end: 126_000 },
    { start: 140_000, end: 200_000 },
  ]);
});

test('writes that overlap a window are left out whole; the others make the percentiles', () => {
  const windows = [{ start: 10_000, end: 15_000 }];
  const writes = [
    write(1_000, 1_400, 400),
    write(9_000, 12_000, 3_000), // accepted before, written during the kill
    write(14_000, 30_000, 16_000), // accepted during, written after
    write(16_000, 16_900, 900),
  ];
  const { all, outside, leftOut } = latencyOutside(writes, windows);
  expect(leftOut).toBe(20);
  expect(outside.count).toBe(20);
  expect(latencyPercentile(outside, 100)).toBe(910);
  expect(all.count).toBe(40);
  expect(latencyOutside(writes, []).outside.count).toBe(40);
});
