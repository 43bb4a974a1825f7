/**
 * `npm run bench:bundle [-- --root DIR]`: each Lambda handler bundled as CDK bundles it (esbuild with
 * HANDLER_BUNDLING), its size and the packages that make it up, and what a cold start pays to load it: the
 * time a fresh `node` process takes to require the bundle (median of several runs, before any invocation).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { HANDLER_BUNDLING } from '../lib/constructs/lambda-function';

const HANDLERS = [
  'lambdas/ingest/handler.ts',
  'lambdas/sink/handler.ts',
  'lambdas/grafana-provisioner/handler.ts',
];
const LOAD_RUNS = 15;

const { values } = parseArgs({
  options: { root: { type: 'string', default: '.' }, verbose: { type: 'boolean', default: false } },
});
const root = resolve(values.root ?? '.');
const out = mkdtempSync(join(tmpdir(), 'bench-bundle-'));

/** Which package (or `lambdas`/`schemas`) an esbuild input path belongs to. */
function owner(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input.split('/')[0] ?? input;
  const rest = input.slice(at + 'node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? input);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Milliseconds a fresh node process spends in require() of the bundle, the AWS SDK clients it needs included
 * (external to the bundle: the Lambda runtime provides them; here they come from node_modules).
 */
function loadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(
    execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      cwd: root,
      env: {
        ...process.env,
        NODE_PATH: join(root, 'node_modules'),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    }),
  );
}

async function main() {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  console.log(`Bundles of ${root} (load average ${loadavg()[0]?.toFixed(2)})`);
  for (const entry of HANDLERS) {
    const file = join(out, `${entry.replaceAll('/', '_')}.js`);
    const result = await build({
      entryPoints: [join(root, entry)],
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      outfile: file,
      minify: HANDLER_BUNDLING.minify,
      sourcemap: HANDLER_BUNDLING.sourceMap,
      target: HANDLER_BUNDLING.target,
      format: 'cjs',
      external: HANDLER_BUNDLING.externalModules,
      metafile: true,
      logLevel: 'error',
    });
    const parts = new Map<string, number>();
    const output = Object.values(result.metafile.outputs)[0];
    for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
      parts.set(owner(input), (parts.get(owner(input)) ?? 0) + bytesInOutput);
    }
    const top = [...parts].sort((a, b) => b[1] - a[1]).slice(0, values.verbose ? undefined : 6);
    const times = Array.from({ length: LOAD_RUNS }, () => loadMs(file));
    console.log(
      `\n${entry}: ${kb(statSync(file).size)}; cold load ${median(times).toFixed(0)} ms median of ${LOAD_RUNS} (load average ${loadavg()[0]?.toFixed(2)})`,
    );
    for (const [name, bytes] of top) console.log(`  ${kb(bytes).padStart(7)}  ${name}`);
  }
  rmSync(out, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
