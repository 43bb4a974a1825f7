/**
 * `npm run bench:streaming [-- --rates 1000,5000 --seconds 60]`: how fresh the streaming windows stay
 * (glue-scripts/streaming_windows.py in local Spark, as `npm start` runs it) while the whole local pipeline
 * takes records at each offered rate: event time → window row visible, p50 and p99 over the micro-batches of
 * the run (each batch reports its own, lakehouse_spark/windows.py), and the CPU share of the job (its Python
 * driver and JVM) and of the machine. Starts its own broker, emulator, API and sink on free ports, and stops them.
 */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { startPipeline } from '../localstack/runtime/pipeline';
import { DEFAULT_DIR, startServices } from '../localstack/services/cli';
import { waitFor } from '../localstack/services/process';
import { sendRecords } from '../localstack/tools/generator/send';
import { type StreamingStatus, startStreamingWindows } from '../localstack/tools/spark/streaming';
import { treeCpuSeconds } from './cpu';

interface Result {
  readonly offered: number;
  readonly accepted: number;
  readonly batches: number;
  /** Median of the batches' p50, and the largest of their p99 (seconds). */
  readonly p50: number;
  readonly p99: number;
  /** Median seconds per batch stage, and of the batches' interval. */
  readonly stages: Readonly<Record<string, number>>;
  /** Of one core. */
  readonly jobCpu: number;
  readonly load: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Median seconds of each stage over the batches, and of the time between two batches' commits. */
function medianStages(batches: readonly StreamingStatus[]): Record<string, number> {
  const names = [...new Set(batches.flatMap((b) => Object.keys(b.stage_seconds ?? {})))];
  const stages = Object.fromEntries(
    names.map((n) => [n, median(batches.map((b) => b.stage_seconds?.[n] ?? 0))]),
  );
  const commits = batches.map((b) => Date.parse(b.committed_at)).sort((a, b) => a - b);
  const gaps = commits.slice(1).map((t, i) => (t - (commits[i] as number)) / 1000);
  return { ...stages, 'between batches': median(gaps) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rates: { type: 'string', default: '1000,5000' }, seconds: { type: 'string', default: '60' } },
  });
  const rates = values.rates.split(',').map(Number);
  const seconds = Number(values.seconds);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dir = join(DEFAULT_DIR, 'bench-streaming');
  const services = await startServices({
    dir,
    fresh: true,
    kafkaPort: 'free',
    awsPort: 'free',
    log: () => {},
  });
  Object.assign(process.env, services.env);
  const pipeline = await startPipeline({ services: services.env, apiPort: 0, logDir: join(dir, 'logs') });
  const s3 = new S3Client({});
  const job = startStreamingWindows(services.env, s3, { logFile: join(dir, 'logs', 'streaming.log') });
  const results: Result[] = [];
  try {
    const apiUrl = pipeline.api.url;
    await waitFor(async () => (await fetch(`${apiUrl}/health`)).status === 200, {
      timeoutMs: 30_000,
      what: 'the API to report Kafka connected',
    });
    const send = (rate: number, count: number) =>
      sendRecords({
        apiUrl,
        rate,
        count,
        route: 'batch',
        batchSize: 500,
        invalidShare: 0,
        duplicateShare: 0,
      });
    // Warm-up: Spark's session and first batch, not measured.
    await send(500, 1_000);
    await waitFor(job.status, { timeoutMs: 180_000, intervalMs: 500, what: 'the first micro-batch' });
    log('streaming job warm; measuring');
    for (const rate of rates) {
      const seen = new Map<number, StreamingStatus>();
      const first = (await job.status())?.batch_id ?? -1;
      const poll = setInterval(async () => {
        const status = await job.status().catch(() => undefined);
        if (status && status.batch_id > first) seen.set(status.batch_id, status);
      }, 250);
      const cpu0 = job.pid === undefined ? 0 : treeCpuSeconds(job.pid);
      const t0 = performance.now();
      const tally = await send(rate, rate * seconds);
      // Until the job has read what was sent (its last batch behind by nothing), at most a minute more.
      await waitFor(
        async () => [...seen.values()].some((s) => s.offsets_behind_latest === 0 && s.batch_id > first + 1),
        { timeoutMs: 60_000, intervalMs: 250, what: 'the streaming job to catch up' },
      ).catch(() => undefined);
      clearInterval(poll);
      const elapsed = (performance.now() - t0) / 1000;
      const jobCpu = job.pid === undefined ? 0 : (treeCpuSeconds(job.pid) - cpu0) / elapsed;
      const batches = [...seen.values()].filter((s) => s.freshness_seconds.p99 !== undefined);
      results.push({
        offered: rate,
        accepted: tally.accepted,
        batches: batches.length,
        p50: median(batches.map((s) => s.freshness_seconds.p50 as number)),
        p99: Math.max(...batches.map((s) => s.freshness_seconds.p99 as number)),
        stages: medianStages(batches),
        jobCpu,
        load: loadavg()[0] as number,
      });
      log(`${rate}/s done`);
    }
  } finally {
    await job.stop();
    s3.destroy();
    await pipeline.stop();
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `streaming windows freshness (event → window row), ${seconds} s per rate, ${cpus().length} cores`,
  );
  for (const r of results) {
    console.log(
      `  ${r.offered.toLocaleString('en-US')} rec/s offered: ${r.accepted.toLocaleString('en-US')} accepted, ` +
        `${r.batches} batches, p50 ${r.p50.toFixed(1)} s, p99 ${r.p99.toFixed(1)} s; ` +
        `job CPU ${(100 * r.jobCpu).toFixed(0)} % of a core; load ${r.load.toFixed(2)}`,
    );
    const stages = Object.entries(r.stages).map(([n, s]) => `${n} ${s.toFixed(1)} s`);
    console.log(`    median per batch: ${stages.join(', ')}`);
  }
}

main().catch((error: Error) => {
  console.error(`bench:streaming: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
