/**
 * The local Spark step of `npm start`: runs the same Glue scripts as AWS (glue-scripts/), in local mode
 * against the emulator, for every dataset — raw_to_curated, then curated_to_gold — with the buckets of
 * the `local` environment. Exits non-zero when a job fails. The services' environment (AWS_ENDPOINT_URL,
 * AWS_*) comes from the caller.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { environmentConfig } from '../../lib/config/environments';
import { bucketName, QUARANTINE_CURATED_PREFIX } from '../../lib/config/lake';
import { DATASETS } from '../../schemas';

const ROOT = resolve(__dirname, '../..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const LOCAL = environmentConfig('local');
const s3 = (zone: Parameters<typeof bucketName>[1], prefix = '') =>
  `s3://${bucketName(LOCAL, zone)}${prefix ? `/${prefix}` : ''}`;

const COMMON = { '--state_uri': s3('scripts', 'state') };
const JOBS: { script: string; args: Record<string, string> }[] = [
  {
    script: 'raw_to_curated.py',
    args: {
      '--raw_uri': s3('raw'),
      '--curated_uri': s3('curated'),
      '--quarantine_uri': s3('quarantine', QUARANTINE_CURATED_PREFIX),
      ...COMMON,
    },
  },
  {
    script: 'curated_to_gold.py',
    args: {
      '--curated_uri': s3('curated'),
      '--gold_uri': s3('gold'),
      '--min_group_count': String(LOCAL.lake.goldMinGroupCount),
      ...COMMON,
    },
  },
];

function runJob(script: string, args: Record<string, string>): Promise<number | null> {
  const argv = [join(ROOT, 'glue-scripts', script), ...Object.entries(args).flat()];
  return new Promise((done) => {
    const child = spawn(PYTHON, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', () => done(null));
    child.once('exit', done);
  });
}

async function main(): Promise<number> {
  if (!existsSync(PYTHON)) {
    console.error('No .venv: run `bash scripts/setup.sh` first.');
    return 1;
  }
  for (const dataset of DATASETS) {
    for (const job of JOBS) {
      const started = Date.now();
      console.log(`spark: ${job.script} --dataset ${dataset.name}`);
      const code = await runJob(job.script, { '--dataset': dataset.name, ...job.args });
      if (code !== 0) {
        console.error(`spark: ${job.script} for ${dataset.name} failed (exit status ${code}).`);
        return 1;
      }
      console.log(
        `spark: ${job.script} for ${dataset.name} done in ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
    }
  }
  return 0;
}

main().then((code) => {
  process.exitCode = code;
});
