import { LatencyHistogram, type LatencySnapshot } from '../tools/lake/latency';
import type { FaultResult } from './faults';

/**
 * The accept → Parquet objective (≤ 5 s at p99) holds outside the broker kills: while a killed node's
 * partitions move and its producers and consumers find the new leaders, records wait by design. These
 * windows are left out of the figure the report checks against the objective; every other fault (sink,
 * API, S3, broker freeze) stays in.
 */

/** A stretch of time, epoch ms. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Each broker kill's window: from the kill until the node is back in the in-sync replicas of every
 * partition and the API has answered 200 again, whichever comes later; a fault not recovered within the
 * chaos run's limit lasts until the end of the load.
 */
export function brokerKillWindows(
  faults: readonly FaultResult[],
  loadStartedAt: number,
  loadEndedAt: number,
): TimeWindow[] {
  return faults
    .filter((f) => f.fault.kind === 'broker-kill')
    .map((f) => {
      const start = loadStartedAt + f.injectedAtMs;
      if (f.recoveredAfterMs === undefined) return { start, end: loadEndedAt };
      const api = (f.liftedAfterMs ?? 0) + (f.first200AfterLiftMs ?? 0);
      return { start, end: start + Math.max(f.recoveredAfterMs, api) };
    });
}

/**
 * The latency of all the sink's writes, and of those none of whose records was accepted or written within a
 * window: a write (one invocation's records) whose first accept to last write overlaps a window is left out
 * whole.
 */
export function latencyOutside(
  writes: readonly LatencySnapshot[],
  windows: readonly TimeWindow[],
): { readonly all: LatencySnapshot; readonly outside: LatencySnapshot; readonly leftOut: number } {
  const all = new LatencyHistogram();
  const outside = new LatencyHistogram();
  for (const w of writes) {
    all.merge(w);
    if (!windows.some((win) => w.firstAcceptMs <= win.end && w.lastWrittenMs >= win.start)) outside.merge(w);
  }
  return { all: all.snapshot(), outside: outside.snapshot(), leftOut: all.count - outside.count };
}
