/**
 * The streaming windows job beside `npm start`'s batch step: glue-scripts/streaming_windows.py in local
 * mode, reading the local broker's raw topics with the arguments CDK gives the Glue streaming job, until
 * stopped. Its status document (the last micro-batch) says how fresh the windows are.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { environmentConfig, type TableFormat } from '../../../lib/config/environments';
import {
  STREAMING_STATE_KEYS,
  STREAMING_WINDOWS,
  streamingWindowsArguments,
} from '../../../lib/config/spark-jobs';
import { DATASETS } from '../../../schemas';
import { REPO_ROOT as ROOT } from '../../paths';
import { LOCAL_SPARK_BUCKETS, type SparkJob } from './run';

const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const LOCAL = environmentConfig('local');

/** Records of micro-batches by what became of them. */
export interface StreamingCounts {
  readonly records: number;
  readonly on_time: number;
  readonly duplicates: number;
  readonly late: number;
  readonly unreadable: number;
}

/**
 * What the job's last micro-batch reported (glue-scripts/lakehouse_spark/windows.py: BatchResult), with
 * the totals of the job's process so far.
 */
export interface StreamingStatus extends StreamingCounts {
  readonly batch_id: number;
  readonly totals: StreamingCounts;
  readonly committed_at: string;
  readonly freshness_seconds: { readonly p50?: number; readonly p99?: number };
  /** Seconds per stage of the batch (read, quarantine, dedup, state, aggregate, merge, prune). */
  readonly stage_seconds: Readonly<Record<string, number>>;
  readonly datasets: Readonly<
    Record<string, { readonly newest_event_time: string; readonly watermark: string | null }>
  >;
  readonly offsets_behind_latest: number | null;
}

export interface StreamingJob {
  /** The driver's process (its JVM is a child of it). */
  readonly pid: number | undefined;
  /** The last micro-batch's status; undefined before the first. */
  status(): Promise<StreamingStatus | undefined>;
  /** Resolves when the job has exited (with its exit code, null when signalled). */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * The job with the arguments CDK gives the Glue streaming job, on the local broker. With `availableNow` it
 * processes what the topics hold and ends (`npm start --once` runs it so, in the batch step's driver).
 */
export function streamingWindowsJob(
  env: Readonly<Record<string, string>>,
  tableFormat: TableFormat = LOCAL.tableFormat,
  availableNow = false,
): SparkJob {
  const args = streamingWindowsArguments(
    LOCAL_SPARK_BUCKETS,
    { ...LOCAL, tableFormat },
    { kafka: { bootstrapServers: env.KAFKA_BROKERS ?? '' }, datasets: DATASETS },
    false,
  );
  return {
    script: STREAMING_WINDOWS.script,
    args: availableNow ? { ...args, '--available_now': 'true' } : args,
  };
}

/** The job until stopped, in a driver of its own beside the batch step (`npm start` without --once). */
export function startStreamingWindows(
  env: Readonly<Record<string, string>>,
  s3: S3Client,
  options: { readonly logFile?: string; readonly tableFormat?: TableFormat } = {},
): StreamingJob {
  const { script, args } = streamingWindowsJob(env, options.tableFormat);
  let output: 'inherit' | number = 'inherit';
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    output = openSync(options.logFile, 'a');
  }
  const child: ChildProcess = spawn(
    PYTHON,
    [join(ROOT, 'glue-scripts', `${script}.py`), ...Object.entries(args).flat()],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', output, output] },
  );
  if (typeof output === 'number') closeSync(output);
  const exited = new Promise<number | null>((done) => {
    child.once('error', () => done(null));
    child.once('exit', done);
  });
  return {
    pid: child.pid,
    exited,
    status: () => streamingStatus(s3),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The status document of the job's last micro-batch; undefined before the first. */
export async function streamingStatus(s3: S3Client): Promise<StreamingStatus | undefined> {
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: LOCAL_SPARK_BUCKETS.scripts, Key: STREAMING_STATE_KEYS.status }),
    );
    return JSON.parse(await (out.Body?.transformToString() ?? 'null')) ?? undefined;
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
}

/** One line for the summary: the freshest window, how far behind the clock, and what was set aside. */
export function streamingSummary(status: StreamingStatus | undefined, now = new Date()): string {
  if (!status) return 'no micro-batch yet';
  const newest = Object.entries(status.datasets)
    .map(([name, d]) => ({ name, at: new Date(d.newest_event_time) }))
    .sort((a, b) => b.at.getTime() - a.at.getTime())[0];
  const freshest = newest
    ? `freshest window ${newest.at.toISOString().slice(11, 16)} UTC (${newest.name}), its newest record ${((now.getTime() - newest.at.getTime()) / 1000).toFixed(1)} s old`
    : 'no window yet';
  const fresh =
    status.freshness_seconds.p99 === undefined
      ? ''
      : `, event → window row p50 ${status.freshness_seconds.p50?.toFixed(1)} s p99 ${status.freshness_seconds.p99.toFixed(1)} s`;
  const t = status.totals;
  return `${freshest}${fresh}; ${t.records.toLocaleString('en-US')} records in ${status.batch_id + 1} batches: ${t.duplicates} duplicates counted once, ${t.late + t.unreadable} late or unreadable quarantined`;
}
