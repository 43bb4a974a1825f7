import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DIR } from '../services/cli';
import { progressLine } from '../tools/generator/send';
import { renderReport } from './report';
import { runChaos } from './run';
import { describeFault, generateSchedule, readSchedule } from './schedule';

/**
 * `npm run chaos`: proves the reliability contract under load with a reproducible fault schedule (see
 * ./run.ts), prints a report and writes it as JSON. Exit status 0 only when nothing accepted was lost,
 * curated holds every record once, nothing rejected reached the lake and every fault was recovered from.
 */

const USAGE = `Usage: npm run chaos -- [options]
  --records N        records offered (default 200000)       --rate R       per second (default 1000)
  --brokers N        Kafka nodes (default 3)                --seed N       faults and records (default 1)
  --broker-kills N   rolling SIGKILLs, the partition leader first (default 5)
  --freezes N        broker SIGSTOP for 2.6-5 s (default 2) --sink-kills N  (default 5, half between two writes)
  --api-kills N      (default 1)                            --s3-bursts N  3 s of 50 % S3 errors (default 1)
  --s3-error-rate F  503 SlowDown share for the whole run (default 0.05); bursts answer 500 InternalError
  --s3-latency-ms N  added to every S3 request (default 20)
  --single-share F   records sent one per request (default 0.3; the rest in batches of --batch-size, default 100)
  --clients N        concurrent requests (default 32)       --invalid-share F  (default 0.01)
  --schedule FILE    a JSON array of faults instead of the generated schedule (see localstack/chaos/schedule.ts)
  --report FILE      where the JSON report goes (default .local/chaos-reports/<time>.json)
  --no-spark         skip raw_to_curated and the curated check
  --verbose          every line of the platform (supervisor, Spark, handlers)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '200000' },
      rate: { type: 'string', default: '1000' },
      brokers: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      'broker-kills': { type: 'string', default: '5' },
      freezes: { type: 'string', default: '2' },
      'sink-kills': { type: 'string', default: '5' },
      'api-kills': { type: 'string', default: '1' },
      's3-bursts': { type: 'string', default: '1' },
      's3-error-rate': { type: 'string', default: '0.05' },
      's3-latency-ms': { type: 'string', default: '20' },
      'single-share': { type: 'string', default: '0.3' },
      'batch-size': { type: 'string', default: '100' },
      clients: { type: 'string', default: '32' },
      'invalid-share': { type: 'string', default: '0.01' },
      schedule: { type: 'string' },
      report: { type: 'string' },
      'no-spark': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const number = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--${name} takes a non-negative number, not "${values[name]}"`);
    return n;
  };
  const records = number('records');
  const rate = number('rate');
  const brokers = number('brokers');
  const seed = number('seed');
  const schedule = values.schedule
    ? readSchedule(values.schedule)
    : generateSchedule({
        durationMs: (records / rate) * 1000,
        seed,
        nodes: brokers,
        brokerKills: number('broker-kills'),
        brokerFreezes: number('freezes'),
        sinkKills: number('sink-kills'),
        apiKills: number('api-kills'),
        s3Bursts: number('s3-bursts'),
      });
  const say = (line: string) => process.stderr.write(`${live ? '\r\x1b[2K' : ''}${line}\n`);
  const live = process.stderr.isTTY;
  // Quiet by default: the run's steps and faults; --verbose adds everything the platform says.
  const log = (line: string) => {
    if (values.verbose || /^(fault|load|validation)/.test(line)) say(line);
  };
  say(`Schedule (${schedule.length} faults):`);
  for (const fault of schedule)
    say(`  ${(fault.atMs / 1000).toFixed(1).padStart(6)} s  ${describeFault(fault)}`);

  const report = await runChaos({
    records,
    rate,
    brokers,
    schedule,
    seed,
    s3ErrorShare: number('s3-error-rate'),
    s3LatencyMs: number('s3-latency-ms'),
    singleShare: number('single-share'),
    batchSize: number('batch-size'),
    clients: number('clients'),
    invalidShare: number('invalid-share'),
    spark: !values['no-spark'],
    verbose: values.verbose,
    log,
    onProgress: (tally) => {
      if (live) process.stderr.write(`\r\x1b[2K${progressLine(tally, records)}`);
    },
  });
  const file =
    values.report ?? join(DEFAULT_DIR, 'chaos-reports', `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...report, schedule }, null, 2)}\n`);
  say(renderReport(report));
  say(`\nReport: ${file}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`\nchaos failed: ${error.message}\n`);
    process.exit(2);
  },
);
