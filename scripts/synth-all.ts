/**
 * Synthesizes every deployable environment (dev, staging, prod, hybrid; offline, no credentials) into cdk.out/<env>, each checked by cdk-nag,
 * then lints every template with cfn-lint. Prints synth time, resources per stack, Lambda bundle sizes,
 * acknowledged nag findings and cfn-lint problems; exits non-zero on any nag finding or cfn-lint error.
 * Usage: npm run synth:all [-- --acknowledgements]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildLakehouse, newApp } from '../lib/app';
import { DEPLOYABLE_ENVS } from '../lib/config/environments';
import { REPO_ROOT } from '../lib/constructs/lambda-function';
import { acknowledgements } from '../lib/nag';
import { cfnLint, lambdaBundleSizes, resourcesPerStack } from './report';

const showAcknowledgements = process.argv.includes('--acknowledgements');
let failed = false;
const started = performance.now();
for (const env of DEPLOYABLE_ENVS) {
  const outdir = path.join(REPO_ROOT, 'cdk.out', env);
  fs.rmSync(outdir, { recursive: true, force: true });
  const t0 = performance.now();
  const app = newApp({}, outdir);
  const { config } = buildLakehouse(app, { env });
  const assembly = app.synth();
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const acks = acknowledgements(app);
  const problems = cfnLint(assembly, config.region);
  const errors = problems.filter((p) => p.Level === 'Error');
  failed ||= errors.length > 0;
  console.log(`\n## ${env}: synthesized in ${seconds} s into ${path.relative(REPO_ROOT, outdir)}`);
  console.log('resources per stack:', resourcesPerStack(assembly));
  for (const [fn, bytes] of Object.entries(lambdaBundleSizes(assembly))) {
    console.log(`bundle ${fn}: ${(bytes / 1024).toFixed(1)} KiB`);
  }
  console.log(`cdk-nag: 0 unsuppressed findings, ${acks.length} acknowledged`);
  if (showAcknowledgements) for (const a of acks) console.log(`  ${a.path} ${a.id}: ${a.reason}`);
  console.log(`cfn-lint: ${errors.length} errors, ${problems.length - errors.length} warnings/informational`);
  for (const p of problems)
    console.log(`  ${p.Level} ${p.Rule.Id} ${path.basename(p.Filename)}: ${p.Message}`);
}
console.log(`\nall environments: ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
