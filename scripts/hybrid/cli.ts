/**
 * `npm run hybrid [-- --keep] [--records N] [--invalid N] [--verbose]`: deploys the real stacks into a local
 * AWS emulator with `cdk deploy` and runs the smoke test through the deployed API (./run.ts). Prints one
 * line per step and a summary; every log is in .local/hybrid/. --keep leaves everything running (Ctrl-C
 * stops it) and prints what to export to use it.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deployableConfig } from '../../lib/config/environments';
import { REPO_ROOT } from '../../localstack/paths';
import { type HybridRun, runHybrid } from './run';

const { values } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    records: { type: 'string', default: '10' },
    invalid: { type: 'string', default: '3' },
    verbose: { type: 'boolean', default: false },
  },
});

const DIR = join(REPO_ROOT, '.local', 'hybrid');
// The SDK's notice that its 2027 releases need Node 22 is not news on every run (--verbose shows it).
if (!values.verbose) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function summary(run: HybridRun): string[] {
  const { deployed, dev } = run.resources;
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  const missing = Object.entries(dev)
    .map(([type, n]) => [type, n - (deployed[type] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([type, n]) => `${type} ${n}`);
  const { smoke } = run;
  return [
    `deployed: ${total(deployed)} resources of ${Object.keys(deployed).length} types (dev's templates: ${total(dev)} of ${Object.keys(dev).length})`,
    `not deployed (switched off in hybrid): ${missing.join(', ') || 'none'}`,
    ...run.refused.map((r) => `emulator refuses dev's ${r.stack}: ${r.error}`),
    `smoke ${smoke.ok ? 'PASSED' : 'FAILED'}: ${smoke.arrived}/${smoke.accepted} accepted records in raw Parquet, ${smoke.rejected} refused` +
      (smoke.latencyMs ? `; accept → raw p50 ${smoke.latencyMs.p50} ms, max ${smoke.latencyMs.max} ms` : ''),
    ...smoke.unexpectedAnswers.map((a) => `  unexpected: ${a}`),
    ...smoke.missing.map((id) => `  missing: ${id}`),
    `total ${Object.values(run.seconds)
      .reduce((a, b) => a + b, 0)
      .toFixed(1)} s; logs in ${DIR}`,
  ];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const run = await runHybrid({
    dir: DIR,
    records: Number(values.records),
    invalid: Number(values.invalid),
    log: (line) => console.log(line),
  });
  for (const line of summary(run)) console.log(line);
  if (values.verbose) console.log(JSON.stringify({ ...run, stop: undefined }, null, 2));
  console.log(`npm run hybrid: ${((performance.now() - t0) / 1000).toFixed(1)} s to the smoke result`);
  if (!values.keep) {
    await run.stop();
    process.exitCode = run.smoke.ok ? 0 : 1;
    return;
  }
  console.log(
    `Kept running (Ctrl-C stops it). In another shell:\n  export AWS_ENDPOINT_URL=${run.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${deployableConfig('hybrid').region}\n  npm run smoke -- --env hybrid`,
  );
  const stop = () => run.stop().then(() => process.exit(run.smoke.ok ? 0 : 1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`npm run hybrid: ${error.message}`);
  process.exitCode = 1;
});
