import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The Spark step of `npm start`: runs the local Spark runner once, when the repository has one, and
 * reports what happened in one line for the summary.
 */
const ROOT = resolve(__dirname, '..');
const RUNNER = join(ROOT, 'localstack', 'spark', 'run.ts');

export async function runLocalSpark(
  _env: Readonly<Record<string, string>>,
  log: (line: string) => void,
): Promise<string> {
  if (!existsSync(RUNNER)) {
    log('No local Spark runner (localstack/spark/run.ts) yet: Spark skipped.');
    return 'skipped (no local Spark runner in this checkout)';
  }
  return 'skipped (runner present but not wired)';
}
