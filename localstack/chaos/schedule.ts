import { readFileSync } from 'node:fs';
import { prng } from '../tools/generator/records';

/**
 * The fault schedule of a chaos run: what fails, when (from the start of the load) and for how long. It is
 * generated from a seed, so a run can be repeated exactly, or read from a JSON file (`--schedule`).
 */

export type FaultKind = 'broker-kill' | 'broker-freeze' | 'sink-kill' | 'api-kill' | 's3-errors';

export interface Fault {
  /** Milliseconds after the load started. */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** broker-kill, broker-freeze: a node id, or 'leader' (the leader of the first topic's partition 0). */
  readonly node?: number | 'leader';
  /**
   * sink-kill: 'between-writes' kills the process right after one raw object of a batch is stored, before
   * it can write the next; 'any' kills it at once, wherever it is.
   */
  readonly when?: 'any' | 'between-writes';
  /** broker-freeze (SIGSTOP … SIGCONT), s3-errors: how long the fault lasts. */
  readonly durationMs?: number;
  /** s3-errors: share of S3 requests answered 503 SlowDown during the burst. */
  readonly share?: number;
}

export interface ScheduleOptions {
  readonly durationMs: number;
  readonly seed: number;
  readonly nodes: number;
  readonly brokerKills: number;
  readonly brokerFreezes: number;
  readonly sinkKills: number;
  readonly apiKills: number;
  readonly s3Bursts: number;
}

/**
 * Spreads the faults over 10–85 % of the run in a seeded order. Broker faults alternate between the
 * partition leader and another node; the runner makes them rolling (one node down at a time).
 */
export function generateSchedule(options: ScheduleOptions): Fault[] {
  const random = prng(options.seed);
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const kinds: FaultKind[] = [
    ...Array<FaultKind>(options.brokerKills).fill('broker-kill'),
    ...Array<FaultKind>(options.brokerFreezes).fill('broker-freeze'),
    ...Array<FaultKind>(options.sinkKills).fill('sink-kill'),
    ...Array<FaultKind>(options.apiKills).fill('api-kill'),
    ...Array<FaultKind>(options.s3Bursts).fill('s3-errors'),
  ];
  // Fisher–Yates with the seeded generator.
  for (let i = kinds.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j] as FaultKind, kinds[i] as FaultKind];
  }
  const start = options.durationMs * 0.1;
  const span = options.durationMs * 0.75;
  const slot = kinds.length > 0 ? span / kinds.length : 0;
  let brokerFaults = 0;
  let sinkKills = 0;
  return kinds.map((kind, i) => {
    const atMs = Math.round(start + slot * i + random() * slot * 0.5);
    switch (kind) {
      case 'broker-kill':
      case 'broker-freeze': {
        brokerFaults += 1;
        const node = brokerFaults % 2 === 1 ? 'leader' : 1 + Math.floor(random() * options.nodes);
        return kind === 'broker-freeze'
          ? { atMs, kind, node, durationMs: Math.round(between(2_600, 5_000)) }
          : { atMs, kind, node };
      }
      case 'sink-kill':
        sinkKills += 1;
        return { atMs, kind, when: sinkKills % 2 === 1 ? 'between-writes' : 'any' };
      case 's3-errors':
        return { atMs, kind, durationMs: 3_000, share: 0.5 };
      default:
        return { atMs, kind };
    }
  });
}

const KINDS = new Set<FaultKind>(['broker-kill', 'broker-freeze', 'sink-kill', 'api-kill', 's3-errors']);

/** Reads a schedule written by hand or saved from a report (`faults[].fault`); refuses what it cannot run. */
export function readSchedule(file: string): Fault[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${file}: a schedule is a JSON array of faults`);
  return parsed
    .map((entry, i) => {
      const fault = entry as Fault;
      if (!KINDS.has(fault.kind) || typeof fault.atMs !== 'number') {
        throw new Error(`${file}: fault ${i} needs "kind" (one of ${[...KINDS].join(', ')}) and "atMs"`);
      }
      return fault;
    })
    .sort((a, b) => a.atMs - b.atMs);
}

/** "broker-kill node 2 at 12.0 s", for progress lines and the report. */
export function describeFault(fault: Fault): string {
  const parts: string[] = [fault.kind];
  if (fault.node !== undefined) parts.push(`node ${fault.node}`);
  if (fault.when === 'between-writes') parts.push('between two object writes');
  if (fault.durationMs !== undefined) parts.push(`for ${(fault.durationMs / 1000).toFixed(1)} s`);
  if (fault.share !== undefined) parts.push(`(${Math.round(fault.share * 100)} % errors)`);
  return parts.join(' ');
}
