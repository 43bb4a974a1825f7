/**
 * The Spark step of `npm start`: runs the same Glue scripts as AWS (glue-scripts/), in local mode against
 * the emulator, for every dataset — raw_to_curated, then curated_to_gold — with the buckets of the `local`
 * environment, and reports what happened and where the time went in one line for the summary.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { environmentConfig, type TableFormat } from '../../../lib/config/environments';
import { bucketName } from '../../../lib/config/lake';
import { PIPELINE_JOBS, type SparkJobBuckets, sparkJobArguments } from '../../../lib/config/spark-jobs';
import { DATASETS } from '../../../schemas';
import { REPO_ROOT as ROOT } from '../../paths';
import { tail } from '../../services/process';

const PYTHON = join(ROOT, '.venv', 'bin', 'python');
/** Runs lanes of jobs in one driver (one JVM and session for the whole run), the lanes at once. */
const PIPELINE = join(ROOT, 'localstack', 'tools', 'spark', 'pipeline.py');
const LOCAL = environmentConfig('local');
/** The local environment's buckets; a run may use others (the drill uses its own). */
export const LOCAL_SPARK_BUCKETS: SparkJobBuckets = {
  raw: bucketName(LOCAL, 'raw'),
  curated: bucketName(LOCAL, 'curated'),
  gold: bucketName(LOCAL, 'gold'),
  quarantine: bucketName(LOCAL, 'quarantine'),
  scripts: bucketName(LOCAL, 'scripts'),
};

/** Runs one Glue script locally with the services' environment; resolves to its exit status. */
export function runJob(
  script: string,
  args: Record<string, string>,
  env: Readonly<Record<string, string>>,
  logFile: string | undefined,
): Promise<number | null> {
  return runPython([join(ROOT, 'glue-scripts', script), ...Object.entries(args).flat()], env, logFile);
}

function runPython(
  argv: string[],
  env: Readonly<Record<string, string>>,
  logFile: string | undefined,
): Promise<number | null> {
  let output: 'inherit' | number = 'inherit';
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    output = openSync(logFile, 'a');
  }
  return new Promise((done) => {
    const child = spawn(PYTHON, argv, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', output, output],
    });
    if (typeof output === 'number') closeSync(output);
    child.once('error', () => done(null));
    child.once('exit', done);
  });
}

/** raw_to_curated for one dataset, with the arguments of the full run. */
export function runRawToCurated(
  dataset: string,
  env: Readonly<Record<string, string>>,
  logFile?: string,
  buckets: SparkJobBuckets = LOCAL_SPARK_BUCKETS,
): Promise<number | null> {
  const args = { '--dataset': dataset, ...sparkJobArguments(buckets, LOCAL) };
  return runJob('raw_to_curated.py', args, env, logFile);
}

/** The arguments of a full run's job for a dataset, in the local lake of the given table format. */
export function localJobArguments(dataset: string, tableFormat: TableFormat): Record<string, string> {
  return { '--dataset': dataset, ...sparkJobArguments(LOCAL_SPARK_BUCKETS, { ...LOCAL, tableFormat }) };
}

/** What pipeline.py reports: the session's start, then each job's seconds and (raw_to_curated) its steps'. */
interface Timings {
  readonly session: number;
  readonly jobs: readonly {
    script: string;
    dataset: string;
    seconds: number;
    steps: Readonly<Record<string, number>>;
  }[];
  readonly failed?: string;
}

/** `session 6 s; financial_transactions: raw_to_curated 5.1 s (listing 0.4, staging 1.9, …), curated_to_gold 2.0 s; …` */
export function describeTimings(t: Timings): string {
  const byDataset = new Map<string, string[]>();
  for (const job of t.jobs) {
    const steps = Object.entries(job.steps).map(([step, s]) => `${step} ${s.toFixed(1)}`);
    const line = `${job.script} ${job.seconds.toFixed(1)} s${steps.length ? ` (${steps.join(', ')})` : ''}`;
    byDataset.set(job.dataset, [...(byDataset.get(job.dataset) ?? []), line]);
  }
  const datasets = [...byDataset].map(([dataset, jobs]) => `${dataset}: ${jobs.join(', ')}`);
  return [`session ${t.session.toFixed(1)} s`, ...datasets].join('; ');
}

/** A Glue script of glue-scripts/ (without .py) and its job arguments. */
export interface SparkJob {
  readonly script: string;
  readonly args: Readonly<Record<string, string>>;
}

export interface LocalSparkOptions {
  /** Spark's own output goes there and only a failing job's last lines reach `log` (default: the terminal). */
  readonly logFile?: string;
  readonly tableFormat?: TableFormat;
  /** Jobs run beside the datasets' lanes, each in a lane of its own (`npm start --once`: the streaming windows). */
  readonly alongside?: readonly SparkJob[];
}

/**
 * Runs every job for every dataset with the services' environment (AWS_ENDPOINT_URL, AWS_*), in one driver:
 * a dataset's jobs in order, the datasets (and `alongside`) at once. Resolves to the summary's line.
 */
export async function runLocalSpark(
  env: Readonly<Record<string, string>>,
  log: (line: string) => void,
  { logFile, tableFormat = LOCAL.tableFormat, alongside = [] }: LocalSparkOptions = {},
): Promise<string> {
  if (!existsSync(PYTHON)) return 'FAILED: no .venv (run `bash scripts/setup.sh`)';
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'local-spark-'));
  try {
    const lanes: SparkJob[][] = [
      ...DATASETS.map((dataset) =>
        PIPELINE_JOBS.map((script) => ({ script, args: localJobArguments(dataset.name, tableFormat) })),
      ),
      ...alongside.map((job) => [job]),
    ];
    const [jobsFile, timingsFile] = [join(dir, 'jobs.json'), join(dir, 'timings.json')];
    writeFileSync(jobsFile, JSON.stringify({ lanes }));
    const code = await runPython([PIPELINE, jobsFile, timingsFile], env, logFile);
    const timings: Timings | undefined = existsSync(timingsFile)
      ? JSON.parse(readFileSync(timingsFile, 'utf8'))
      : undefined;
    if (code !== 0) {
      if (logFile) log(`${tail(logFile, 30)}\n(the whole output: ${logFile})`);
      return `FAILED: ${timings?.failed ?? 'the Spark driver'} (exit status ${code})`;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    return `ran in ${seconds} s${timings ? ` (${describeTimings(timings)})` : ''}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
