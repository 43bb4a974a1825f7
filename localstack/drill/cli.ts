/**
 * npm run drill — the disaster recovery drill on a fresh local platform (its own broker and emulator on
 * free ports, data under .local/drill): curated corrupted and restored by Delta time travel, raw objects
 * lost and rebuilt from Kafka's retention through the sink. Prints a table of the measured RTO and RPO and
 * writes the JSON report to .local/drill-reports/. Exit status 1 unless both recover with zero loss.
 *
 *   npm run drill -- [--records N] [--dataset NAME]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DIR, startServices } from '../services/cli';
import { type DrillReport, runDrill } from './run';

export function drillTable(report: DrillReport): string {
  const rows = report.scenarios.map((s) => [
    s.scenario,
    s.recovery,
    `${s.rtoSeconds} s`,
    String(s.rpoRecords),
    String(s.damaged),
    s.verified ? 'yes' : 'NO',
    s.loadAverage.join(' '),
  ]);
  const header = [
    'scenario',
    'recovery',
    'RTO',
    'RPO (records lost)',
    'rows damaged',
    'verified',
    'load avg',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { records: { type: 'string', default: '2000' }, dataset: { type: 'string' } },
  });
  const log = (line: string) => process.stderr.write(`[drill] ${line}\n`);
  const dir = join(DEFAULT_DIR, 'drill');
  const services = await startServices({
    dir,
    fresh: true,
    kafkaPort: 'free',
    awsPort: 'free',
    emulator: 'moto',
    log,
  });
  try {
    const report = await runDrill({
      services: services.env,
      records: Number(values.records),
      dataset: values.dataset,
      logDir: join(dir, 'logs'),
      log,
    });
    const reports = join(DEFAULT_DIR, 'drill-reports');
    mkdirSync(reports, { recursive: true });
    const file = join(reports, `drill-${report.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `${drillTable(report)}\n\n${report.accepted} ${report.dataset} records; ${report.passed ? 'PASSED' : 'FAILED'}; report: ${file}\n`,
    );
    return report.passed ? 0 : 1;
  } finally {
    await services.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`[drill] failed: ${error.stack ?? error}\n`);
    process.exit(2);
  },
);
