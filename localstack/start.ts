import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { environmentConfig, TABLE_FORMATS, type TableFormat } from '../lib/config/environments';
import {
  bucketName,
  glueDatabaseName,
  QUARANTINE_CURATED_PREFIX,
  QUARANTINE_SINK_PREFIX,
} from '../lib/config/lake';
import { DATASETS } from '../schemas';
import { type Pipeline, startPipeline } from './runtime/pipeline';
import { DEFAULT_DIR, type Services, startServices } from './services/cli';
import { waitFor } from './services/process';
import { Supervision } from './services/supervisor';
import { localSettings } from './settings';
import { progressLine, type SendTally, sendRecords } from './tools/generator/send';
import {
  countDelta,
  countIceberg,
  countJsonLines,
  countParquet,
  type ZoneCount,
} from './tools/lake/inventory';
import { type LatencySnapshot, latencyPercentile, throughput } from './tools/lake/latency';
import { RawZone } from './tools/lake/raw-zone';
import { runLocalSpark } from './tools/spark/run';
import {
  type StreamingJob,
  startStreamingWindows,
  streamingStatus,
  streamingSummary,
  streamingWindowsJob,
} from './tools/spark/streaming';

/**
 * `npm start`: the whole pipeline on this machine. Starts the broker and the AWS emulator (host
 * processes), the local API (real ingest handler) and the local event source mapping (real sink
 * handler); sends a default batch through the generator; waits until every accepted record is in raw
 * Parquet; runs the local Spark job when there is one; prints a summary; then keeps running until Ctrl-C
 * (or exits with --once). Stopping ends every process it started.
 */

const LOCAL = environmentConfig('local');
/** Broker log, lake and logs of `npm start` (tests and other tools use their own folders under .local). */
const PLATFORM_DIR = join(DEFAULT_DIR, 'platform');
const USAGE = `Usage: npm start -- [--once] [--count N] [--rate R] [--invalid SHARE] [--duplicates SHARE]
                  [--brokers N] [--keep-data] [--no-spark] [--no-streaming] [--table-format delta|iceberg]
                  [--wait-seconds S] [--verbose]
  --once          exit after the summary: status 0 only if every accepted record reached raw Parquet
  --count N       records the generator sends (default 20000), --rate R per second (default 5000)
  --brokers N     Kafka nodes (default 1); 3 runs a KRaft cluster with production topic settings (RF 3, min ISR 2)
  --keep-data     keep .local/platform/ (broker log, lake) from the previous run instead of starting fresh
  --no-spark      skip the local Spark job
  --no-streaming  skip the streaming windows job (1-minute windows of the raw topics, beside the batch step;
                  with --once, one run over what the topics hold, in the batch step's driver)
  --table-format  of the curated, quarantine and gold tables: delta (default) or iceberg, in the Glue
                  database of the emulator (or LAKEHOUSE_TABLE_FORMAT)
  --verbose       handler and Spark output on the terminal (default: in .local/platform/logs/)
Ports: LAKEHOUSE_API_PORT (8000), LAKEHOUSE_KAFKA_PORT (9092), LAKEHOUSE_AWS_PORT (4566).`;

const bold = (text: string) => (process.stderr.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (line: string) => process.stderr.write(`${line}\n`);
const step = (line: string) => say(bold(`==> ${line}`));
const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${fmt(Math.round(n))} ms`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      count: { type: 'string', default: '20000' },
      rate: { type: 'string', default: '5000' },
      invalid: { type: 'string', default: '0.02' },
      duplicates: { type: 'string', default: '0.01' },
      brokers: { type: 'string', default: '1' },
      'keep-data': { type: 'boolean', default: false },
      'no-spark': { type: 'boolean', default: false },
      'no-streaming': { type: 'boolean', default: false },
      'table-format': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'wait-seconds': { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const tableFormat = (values['table-format'] ?? localSettings().tableFormat) as TableFormat;
  if (!TABLE_FORMATS.includes(tableFormat)) {
    say(`--table-format is "${tableFormat}": use ${TABLE_FORMATS.join(' or ')}\n${USAGE}`);
    return 2;
  }
  const count = Number(values.count);
  const rate = Number(values.rate);
  // Quiet by default: progress and the summary here, what the handlers and Spark say in log files.
  const logDir = values.verbose ? undefined : join(PLATFORM_DIR, 'logs');
  // The AWS SDK's ten-line Node-version notice becomes one line of the summary (all of it with --verbose).
  if (!values.verbose) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // One supervisor for Kafka, the API and the event source mappings: the summary counts every restart.
  const supervision = new Supervision(say);

  // Kept as promises so that a Ctrl-C during startup still stops whatever is coming up.
  let services: Promise<Services> | undefined;
  let pipeline: Promise<Pipeline> | undefined;
  let streaming: StreamingJob | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      step('Stopping');
      await streaming?.stop();
      await pipeline?.then(
        (p) => p.stop(),
        () => {},
      );
      await services?.then(
        (s) => s.stop(),
        () => {},
      );
      say('Stopped: API, event source mapping, Kafka and the AWS emulator are down.');
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`\n${signal} received`);
    shutdown().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const t0 = Date.now();
    step(
      `Services: Kafka (KRaft) and the AWS emulator${values['keep-data'] ? '' : ' (fresh data in .local/platform/)'}`,
    );
    // Quiet: the services' own lines (ports, topics, buckets) in their log file, one line here.
    const servicesLog = logDir && join(logDir, 'services.log');
    services = startServices({
      dir: PLATFORM_DIR,
      fresh: !values['keep-data'],
      brokers: Number(values.brokers),
      supervision,
      log: servicesLog ? (line) => appendLine(servicesLog, line) : say,
    });
    const { env } = await services;
    if (servicesLog) {
      say(
        `Kafka ${env.KAFKA_BROKERS} and the AWS emulator ${env.AWS_ENDPOINT_URL} ready (details: ${relative(process.cwd(), servicesLog)})`,
      );
    }

    step('Local API and event source mapping (the real ingest and sink handlers)');
    pipeline = startPipeline({ services: env, supervision, logDir });
    const { api, rawBucket } = await pipeline;
    const apiUrl = api.url;
    await waitFor(async () => (await fetch(`${apiUrl}/health`)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `${apiUrl}/health to report Kafka connected`,
    });
    say(`API ${apiUrl} healthy (Kafka connected) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const s3 = new S3Client({});
    // Started before the records, so that its windows follow them as they arrive. With --once, the windows
    // are computed once, from everything the topics hold, in the batch step's driver instead: a second
    // JVM beside that step made it 150 s instead of 85 on two cores.
    const catchUpWindows = values.once && !values['no-streaming'];
    if (!values['no-streaming'] && !values.once) {
      streaming = startStreamingWindows(env, s3, {
        logFile: logDir && join(logDir, 'streaming.log'),
        tableFormat,
      });
    }
    const rawZone = new RawZone(s3, rawBucket, DATASETS);
    const { latency } = await pipeline;
    latency.drain();

    step(`Generator: ${fmt(count)} records at ${fmt(rate)}/s through the batch routes`);
    const live = process.stderr.isTTY;
    const tally = await sendRecords({
      apiUrl,
      rate,
      count,
      route: 'batch',
      batchSize: LOCAL.ingest.maxBatchRecords,
      invalidShare: Number(values.invalid),
      duplicateShare: Number(values.duplicates),
      onProgress: (t) => {
        if (live) process.stderr.write(`\r\x1b[2K${progressLine(t, count)}`);
      },
    });
    say(`${live ? '\r\x1b[2K' : ''}${progressLine(tally, count)}`);

    step('Waiting until every accepted record is in raw Parquet');
    const arrival = await waitForArrival(rawZone, tally, Number(values['wait-seconds']) * 1000);
    const latencies = latency.snapshot();
    // With --once nothing more arrives: the mappings' pollers would only take CPU from Spark.
    if (values.once) await (await pipeline).stopSink();

    step(`Spark (${tableFormat} tables)`);
    const spark = values['no-spark']
      ? 'skipped (--no-spark)'
      : await runLocalSpark(env, say, {
          logFile: logDir && join(logDir, 'spark.log'),
          tableFormat,
          alongside: catchUpWindows ? [streamingWindowsJob(env, tableFormat, true)] : [],
        });

    const windows = streaming
      ? await caughtUp(streaming, tally.accepted, Number(values['wait-seconds']) * 1000)
      : !catchUpWindows
        ? 'skipped (--no-streaming)'
        : values['no-spark']
          ? 'skipped (--no-spark)'
          : `${streamingSummary(await streamingStatus(s3))} (--once: computed once, beside the batch step)`;
    const zones = await inventory(s3, await pipeline, tableFormat);
    printSummary(tally, arrival, latencies, zones, spark, windows, apiUrl, supervision.restarts());
    if (values.once) {
      await shutdown();
      return arrival.missing === 0 && tally.failed === 0 ? 0 : 1;
    }
    say(
      `\nRunning. API ${apiUrl} (metrics at ${apiUrl}/metrics), Kafka ${env.KAFKA_BROKERS}, ` +
        `AWS emulator ${env.AWS_ENDPOINT_URL}.\n` +
        `${logDir ? `Logs of the handlers and Spark: ${logDir}/\n` : ''}` +
        `Send more with: npm run generate -- --rate 1000 --count 10000 --api ${apiUrl}\nCtrl-C stops everything.`,
    );
    await new Promise<never>(() => {});
    return 0;
  } catch (error) {
    say(`\nnpm start failed: ${(error as Error).message}`);
    await shutdown();
    return 1;
  }
}

/**
 * Waits until the streaming job has read every accepted record (or the time is up, or it died), then
 * describes its freshest window for the summary.
 */
async function caughtUp(job: StreamingJob, accepted: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | null | undefined;
  void job.exited.then((code) => {
    exit = code;
  });
  for (;;) {
    const status = await job.status();
    if (exit !== undefined) return `FAILED: the streaming job exited (${exit}); see its log`;
    if ((status && status.totals.records >= accepted) || Date.now() > deadline)
      return streamingSummary(status);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** startServices wipes the platform folder first, so the log's folder is created at each line. */
function appendLine(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${line}\n`);
}

interface Arrival {
  readonly expected: number;
  readonly arrived: number;
  readonly missing: number;
  /** Rows beyond the expected count of an id: a redelivery that was not overwritten. */
  readonly extra: number;
}

/** Waits until the raw zone holds every record the API accepted in this run (by id, duplicates counted). */
async function waitForArrival(rawZone: RawZone, tally: SendTally, timeoutMs: number): Promise<Arrival> {
  const expected = new Map<string, number>();
  for (const d of Object.values(tally.byDataset)) {
    for (const id of d.acceptedIds) expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  const measure = async (): Promise<Arrival> => {
    await rawZone.poll();
    const rows = (await rawZone.rows()).filter((r) => expected.has(r.id));
    const seen = new Map<string, number>();
    for (const r of rows) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    let arrived = 0;
    let extra = 0;
    for (const [id, want] of expected) {
      const got = seen.get(id) ?? 0;
      arrived += Math.min(got, want);
      extra += Math.max(0, got - want);
    }
    return {
      expected: tally.accepted,
      arrived,
      missing: tally.accepted - arrived,
      extra,
    };
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const arrival = await measure();
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[2Kin raw Parquet: ${fmt(arrival.arrived)}/${fmt(arrival.expected)}`);
    }
    if (arrival.missing <= 0 || Date.now() > deadline) {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      return arrival;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function inventory(
  s3: S3Client,
  pipeline: Pipeline,
  tableFormat: TableFormat,
): Promise<Record<string, ZoneCount>> {
  const glue = new GlueClient({});
  // Delta tables are folders of the zone; Iceberg tables are the Glue database's tables located in it.
  const tables = (bucket: string, prefix = '') =>
    tableFormat === 'iceberg'
      ? countIceberg(s3, glue, glueDatabaseName(LOCAL), bucket, prefix)
      : countDelta(s3, bucket, prefix);
  const [raw, sinkQuarantine, curated, gold, curatedQuarantine] = await Promise.all([
    countParquet(s3, pipeline.rawBucket),
    countJsonLines(s3, pipeline.quarantineBucket, `${QUARANTINE_SINK_PREFIX}/`),
    tables(bucketName(LOCAL, 'curated')),
    tables(bucketName(LOCAL, 'gold')),
    tables(pipeline.quarantineBucket, `${QUARANTINE_CURATED_PREFIX}/`),
  ]);
  glue.destroy();
  const format = tableFormat === 'iceberg' ? 'Iceberg' : 'Delta';
  return {
    'raw (Parquet)': raw,
    'quarantine, sink (JSON lines)': sinkQuarantine,
    [`curated (${format})`]: curated,
    [`quarantine, curated (${format})`]: curatedQuarantine,
    [`gold (${format})`]: gold,
  };
}

function printSummary(
  tally: SendTally,
  arrival: Arrival,
  latencies: LatencySnapshot,
  zones: Record<string, ZoneCount>,
  spark: string,
  windows: string,
  apiUrl: string,
  restarts: Record<string, number>,
): void {
  const duplicates = Object.values(tally.byDataset).reduce((n, d) => n + d.duplicates, 0);
  const lines = [
    '',
    bold('Summary'),
    `  sent        ${fmt(tally.sent)} records in ${fmt(tally.requests)} requests, ${(tally.elapsedMs / 1000).toFixed(1)} s`,
    `  accepted    ${fmt(tally.accepted)} (of which ${fmt(duplicates)} deliberate duplicates)`,
    `  rejected    ${fmt(tally.rejected)} by the API (422, invalid records)`,
    ...(tally.failed
      ? [`  FAILED      ${fmt(tally.failed)} records got no answer (${JSON.stringify(tally.statuses)})`]
      : []),
    `  quarantined ${fmt(zones['quarantine, sink (JSON lines)']?.rows ?? 0)} by the sink`,
    `  in raw      ${fmt(arrival.arrived)} of ${fmt(arrival.expected)} accepted records` +
      (arrival.missing ? `  — ${fmt(arrival.missing)} MISSING` : ' — all arrived') +
      (arrival.extra
        ? `; ${fmt(arrival.extra)} extra copies (a retried 503 can have been written: the API is at-least-once)`
        : ''),
    `  accept → Parquet latency  p50 ${ms(latencyPercentile(latencies, 50))}  p99 ${ms(latencyPercentile(latencies, 99))}` +
      `  max ${ms(latencyPercentile(latencies, 100))}  (${fmt(latencies.count)} records)`,
    `  throughput  ${fmt(Math.round(throughput(latencies, arrival.arrived)))} records/s end to end (first accept to last write)`,
    `  spark       ${spark}`,
    `  windows     ${windows}`,
    `  restarts    ${
      Object.keys(restarts).length === 0
        ? 'none (no process died)'
        : Object.entries(restarts)
            .map(([name, n]) => `${name} ×${n}`)
            .join(', ')
    }`,
    '  zone                           files       rows',
    ...Object.entries(zones).map(
      ([zone, c]) => `  ${zone.padEnd(29)}${fmt(c.files).padStart(7)}${fmt(c.rows).padStart(11)}`,
    ),
    `  metrics     ${apiUrl}/metrics`,
    ...(Number(process.versions.node.split('.')[0]) < 22
      ? [
          `  note        Node ${process.versions.node}: AWS SDK releases after the first week of January 2027 need Node 22`,
        ]
      : []),
  ];
  say(lines.join('\n'));
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    say(error.stack ?? String(error));
    process.exit(1);
  },
);
