/**
 * The Spark step of `npm start`: runs the same Glue scripts as AWS (glue-scripts/), in local mode against
 * the emulator, for every dataset — raw_to_curated, then curated_to_gold — with the buckets of the `local`
 * environment, and reports what happened in one line for the summary.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { environmentConfig } from '../../../lib/config/environments';
import { bucketName, QUARANTINE_CURATED_PREFIX } from '../../../lib/config/lake';
import { DATASETS } from '../../../schemas';
import { REPO_ROOT as ROOT } from '../../paths';
import { tail } from '../../services/process';

const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const LOCAL = environmentConfig('local');
const s3 = (zone: Parameters<typeof bucketName>[1], prefix = '') =>
  `s3://${bucketName(LOCAL, zone)}${prefix ? `/${prefix}` : ''}`;

const STATE = { '--state_uri': s3('scripts', 'state') };
interface Job {
  script: string;
  args: Record<string, string>;
}
const RAW_TO_CURATED: Job = {
  script: 'raw_to_curated.py',
  args: {
    '--raw_uri': s3('raw'),
    '--curated_uri': s3('curated'),
    '--quarantine_uri': s3('quarantine', QUARANTINE_CURATED_PREFIX),
    // The quality gate's objective, as the DAG passes it on AWS.
    '--max_rejected_share': String(LOCAL.alarms.rejectedRatio),
    ...STATE,
  },
};
const JOBS: Job[] = [
  RAW_TO_CURATED,
  {
    script: 'curated_to_gold.py',
    args: {
      '--curated_uri': s3('curated'),
      '--gold_uri': s3('gold'),
      '--min_group_count': String(LOCAL.lake.goldMinGroupCount),
      ...STATE,
    },
  },
];

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
): Promise<number | null> {
  return runJob(RAW_TO_CURATED.script, { '--dataset': dataset, ...RAW_TO_CURATED.args }, env, logFile);
}

/**
 * Runs every job for every dataset with the services' environment (AWS_ENDPOINT_URL, AWS_*). With a
 * logFile, Spark's own output goes there and only a failing job's last lines reach `log`.
 */
export async function runLocalSpark(
  env: Readonly<Record<string, string>>,
  log: (line: string) => void,
  logFile?: string,
): Promise<string> {
  if (!existsSync(PYTHON)) return 'FAILED: no .venv (run `bash scripts/setup.sh`)';
  const started = Date.now();
  for (const dataset of DATASETS) {
    for (const job of JOBS) {
      log(`spark: ${job.script} --dataset ${dataset.name}`);
      const code = await runJob(job.script, { '--dataset': dataset.name, ...job.args }, env, logFile);
      if (code !== 0) {
        if (logFile) log(`${tail(logFile, 30)}\n(the whole output: ${logFile})`);
        return `FAILED: ${job.script} for ${dataset.name} (exit status ${code})`;
      }
    }
  }
  return `ran in ${((Date.now() - started) / 1000).toFixed(0)} s`;
}
