import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The Spark step of `npm start`: runs the local Spark runner once, when the repository has one, and
 * reports what happened in one line for the summary. The contract with the runner is a command:
 * `tsx localstack/spark/run.ts`, run with the services' environment (KAFKA_BROKERS, AWS_ENDPOINT_URL,
 * AWS_*), its output shown as it comes, exit status 0 on success.
 */
const ROOT = resolve(__dirname, '..');
export const SPARK_RUNNER = join(ROOT, 'localstack', 'spark', 'run.ts');

export async function runLocalSpark(
  env: Readonly<Record<string, string>>,
  log: (line: string) => void,
): Promise<string> {
  if (!existsSync(SPARK_RUNNER)) {
    log('No local Spark runner (localstack/spark/run.ts) in this checkout: Spark skipped.');
    return 'skipped (no local Spark runner in this checkout)';
  }
  const started = Date.now();
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SPARK_RUNNER], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', () => done(null));
    child.once('exit', (exitCode) => done(exitCode));
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  return code === 0 ? `ran in ${seconds} s` : `FAILED (exit status ${code}) after ${seconds} s`;
}
