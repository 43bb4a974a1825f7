/**
 * The Spark step of `npm start`: runs the same Glue scripts as AWS (glue-scripts/), in local mode against
 * the emulator, for every dataset — raw_to_curated, then curated_to_gold — with the buckets of the `local`
 * environment, and reports what happened in one line for the summary.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { environmentConfig, type TableFormat } from '../../../lib/config/environments';
import { bucketName } from '../../../lib/config/lake';
import { PIPELINE_JOBS, type SparkJobBuckets, sparkJobArguments } from '../../../lib/config/spark-jobs';
import { DATASETS } from '../../../schemas';
import { REPO_ROOT as ROOT } from '../../paths';
import { tail } from '../../services/process';

const PYTHON = join(ROOT, '.venv', 'bin', 'python');
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
  const argv = [join(ROOT, 'glue-scripts', script), ...Object.entries(args).flat()];
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

/**
 * Runs every job for every dataset with the services' environment (AWS_ENDPOINT_URL, AWS_*). With a
 * logFile, Spark's own output goes there and only a failing job's last lines reach `log`.
 */
export async function runLocalSpark(
  env: Readonly<Record<string, string>>,
  log: (line: string) => void,
  logFile?: string,
  tableFormat: TableFormat = LOCAL.tableFormat,
): Promise<string> {
  if (!existsSync(PYTHON)) return 'FAILED: no .venv (run `bash scripts/setup.sh`)';
  const started = Date.now();
  for (const dataset of DATASETS) {
    for (const job of PIPELINE_JOBS) {
      const heading = `spark: ${job}.py --dataset ${dataset.name}`;
      if (logFile) {
        mkdirSync(dirname(logFile), { recursive: true });
        appendFileSync(logFile, `${heading}\n`);
      } else log(heading);
      const code = await runJob(`${job}.py`, localJobArguments(dataset.name, tableFormat), env, logFile);
      if (code !== 0) {
        if (logFile) log(`${tail(logFile, 30)}\n(the whole output: ${logFile})`);
        return `FAILED: ${job}.py for ${dataset.name} (exit status ${code})`;
      }
    }
  }
  return `ran in ${((Date.now() - started) / 1000).toFixed(0)} s`;
}
