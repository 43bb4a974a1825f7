import { loadavg } from 'node:os';
import type { SendTally } from '../tools/generator/send';
import { type LatencySnapshot, latencyPercentile } from '../tools/lake/latency';
import type { FaultResult, Timeline } from './faults';
import { brokerKillWindows, latencyOutside } from './kill-windows';
import { type LoadOptions, loadWithFaults } from './load';
import { type PlatformOptions, startChaosPlatform } from './platform';
import { type ValidateOptions, type Validation, validate } from './validate';

/**
 * One chaos run: a fresh platform (a KRaft cluster, the emulator behind an S3 fault proxy, the local API
 * and event source mappings under supervision), sustained load through the single and batch routes by
 * clients that retry 503s and connection errors, the fault schedule injected meanwhile, then validation of
 * every zone against what the API answered: nothing accepted may be lost, curated holds each record once,
 * nothing rejected is anywhere.
 *
 * Its stages in data flow order: ./platform.ts starts the platform, ./load.ts drives it while the faults
 * strike, ./validate.ts checks the zones; this file joins their figures into the report.
 */

export type ChaosOptions = PlatformOptions & LoadOptions & ValidateOptions;

export interface ChaosReport extends Validation {
  readonly startedAt: string;
  readonly options: Omit<ChaosOptions, 'log' | 'onProgress' | 'schedule' | 'verbose' | 'dir'>;
  readonly loadAverage: readonly number[];
  readonly load: {
    readonly offered: number;
    readonly accepted: number;
    readonly rejected: number;
    /** Records whose request was answered 503 or not at all at least once, and then retried. */
    readonly retriedRecords: number;
    /** Records that never got an answer (the client gave up): neither accepted nor rejected. */
    readonly unanswered: number;
    readonly requests: number;
    readonly statuses: Readonly<Record<string, number>>;
    readonly seconds: number;
  };
  readonly faults: readonly FaultResult[];
  readonly restarts: Readonly<Record<string, number>>;
  readonly latency: LatencyFigures & {
    /** The records of writes that overlapped no broker kill's window (./kill-windows.ts): the objective's figure. */
    readonly outsideBrokerKills: LatencyFigures & { readonly leftOut: number };
  };
  /** Zero loss and zero curated duplicates, nothing rejected in the lake, every fault recovered. */
  readonly passed: boolean;
}

const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms));

/** Load, faults and the validation of everything accepted (see the module comment). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = new Date().toISOString();
  const timeline: Timeline = { accepted: [], commits: [], restarts: [], writes: [] };
  const platform = await startChaosPlatform(options, timeline);
  try {
    const { tally, faults, loadStartedAt, loadEndedAt } = await loadWithFaults(platform, options, timeline);
    const latency = latencyOutside(timeline.writes, brokerKillWindows(faults, loadStartedAt, loadEndedAt));
    const validation = await validate(platform, options, tally);
    return {
      startedAt,
      options: {
        records: options.records,
        rate: options.rate,
        brokers: options.brokers,
        seed: options.seed,
        s3ErrorShare: options.s3ErrorShare,
        s3LatencyMs: options.s3LatencyMs,
        singleShare: options.singleShare,
        batchSize: options.batchSize,
        clients: options.clients,
        invalidShare: options.invalidShare,
        spark: options.spark,
      },
      loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
      load: {
        offered: tally.sent,
        accepted: tally.accepted,
        rejected: tally.rejected,
        retriedRecords: Object.values(tally.byDataset).reduce((n, d) => n + d.retriedIds.length, 0),
        unanswered: tally.failed,
        requests: tally.requests,
        statuses: tally.statuses,
        seconds: Math.round(tally.elapsedMs / 100) / 10,
      },
      faults,
      restarts: platform.supervision.restarts(),
      latency: {
        ...latencyFigures(latency.all),
        outsideBrokerKills: { ...latencyFigures(latency.outside), leftOut: latency.leftOut },
      },
      ...validation,
      passed: passed(validation, tally, faults),
    };
  } finally {
    await platform.stop();
  }
}

function passed(
  { raw, sinkQuarantine, curated }: Validation,
  tally: SendTally,
  faults: ChaosReport['faults'],
): boolean {
  return (
    raw.lost === 0 &&
    raw.rejectedFound === 0 &&
    sinkQuarantine.rejectedFound === 0 &&
    tally.failed === 0 &&
    faults.every((f) => f.recoveredAfterMs !== undefined) &&
    (!curated || (curated.lost === 0 && curated.duplicateRows === 0 && curated.rejectedFound === 0))
  );
}

interface LatencyFigures {
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
  readonly records: number;
}

function latencyFigures(snapshot: LatencySnapshot): LatencyFigures {
  return {
    p50Ms: round(latencyPercentile(snapshot, 50)),
    p99Ms: round(latencyPercentile(snapshot, 99)),
    maxMs: round(latencyPercentile(snapshot, 100)),
    records: snapshot.count,
  };
}
