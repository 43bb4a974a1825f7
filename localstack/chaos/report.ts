import { LOCAL } from '../../lib/config/environments';
import type { ChaosReport } from './run';
import type { ZoneCheck } from './validate';

/** The chaos report as a person reads it: the faults with their recovery times, then every zone's figures. */

const fmt = (n: number) => n.toLocaleString('en-US');
const sec = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}

const zoneRow = (zone: string, check: ZoneCheck, extra = ''): string[] => [
  zone,
  fmt(check.present),
  fmt(check.lost),
  fmt(check.duplicateRows),
  fmt(check.rejectedFound),
  extra,
];

export function renderReport(report: ChaosReport): string {
  const { load, raw, curated } = report;
  const restarts = Object.entries(report.restarts);
  const outside = report.latency.outsideBrokerKills;
  const objective =
    outside.p99Ms === undefined || outside.p99Ms <= LOCAL.alarms.ingestLatencyP99Ms ? 'met' : 'NOT met';
  const lines = [
    '',
    `Chaos report — ${report.passed ? 'PASSED' : 'FAILED'}  (seed ${report.options.seed}, ${report.options.brokers} brokers, load average ${report.loadAverage.join(' ')})`,
    '',
    'Faults',
    ...table(
      ['at', 'fault', 'target', 'lifted', 'recovered', '200 again', 'longest no-200'],
      report.faults.map((f) => [
        sec(f.injectedAtMs),
        f.description,
        f.target,
        sec(f.liftedAfterMs),
        f.recoveredAfterMs === undefined ? 'NEVER' : sec(f.recoveredAfterMs),
        sec(f.first200AfterLiftMs),
        sec(f.longestGapWithout200Ms),
      ]),
    ),
    '  (lifted: process restarted, SIGCONT sent or burst over; recovered: see report JSON `recovery`;',
    '   200 again: from the fault lifted to the next 200 answer)',
    '',
    'Records',
    `  offered ${fmt(load.offered)} in ${fmt(load.requests)} requests over ${load.seconds} s · accepted ${fmt(load.accepted)}` +
      ` · rejected (4xx) ${fmt(load.rejected)} · retried after 503/connection errors ${fmt(load.retriedRecords)}` +
      ` · never answered ${fmt(load.unanswered)}`,
    `  HTTP answers: ${Object.entries(load.statuses)
      .map(([status, n]) => `${status} ×${fmt(n)}`)
      .join(', ')}`,
    ...table(
      ['zone', 'accepted ids in it', 'lost', 'duplicate rows', '4xx ids in it', ''],
      [
        zoneRow(
          'raw (Parquet)',
          raw,
          raw.duplicateRows
            ? `${fmt(raw.retriedProduces)} retried produces, ${fmt(raw.sameCoordinates)} same coordinates`
            : '',
        ),
        ...(curated ? [zoneRow('curated + quarantine (Delta)', curated, curated.spark)] : []),
      ],
    ),
    `  sink quarantine: ${fmt(report.sinkQuarantine.rows)} rows, ${fmt(report.sinkQuarantine.rejectedFound)} of 4xx ids`,
    `  accept → Parquet during the faults: p50 ${sec(report.latency.p50Ms)}  p99 ${sec(report.latency.p99Ms)}  max ${sec(report.latency.maxMs)}  (${fmt(report.latency.records)} records)`,
    `  outside the broker kills' windows: p50 ${sec(outside.p50Ms)}  p99 ${sec(outside.p99Ms)} (objective ≤ ${sec(LOCAL.alarms.ingestLatencyP99Ms)}: ${objective})  max ${sec(outside.maxMs)}  (${fmt(outside.records)} records; ${fmt(outside.leftOut)} in the windows left out)`,
    `  restarts: ${restarts.length ? restarts.map(([name, n]) => `${name} ×${n}`).join(', ') : 'none'}`,
  ];
  return lines.join('\n');
}
