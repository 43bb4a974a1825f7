import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT as ROOT } from '../../paths';
import { assertPortFree, spawnService, waitFor, whenReady } from '../process';
import type { AwsEmulator, EmulatorOptions } from './moto';

/** ministack (PyPI) from .venv-hybrid, which `bash scripts/setup.sh --for hybrid` (or --for test) creates. */
export const MINISTACK = join(ROOT, '.venv-hybrid', 'bin', 'ministack');

/**
 * ministack as a host process: the AWS emulator `npm run hybrid` deploys the stacks into. Its
 * CloudFormation provisions what it has a provisioner for, its Lambda runs Node functions as host
 * processes (their AWS SDK calls come back to it through AWS_ENDPOINT_URL), and its API Gateway answers on
 * `<endpoint>/_aws/execute-api/<api id>/<stage>/…`. Listens on loopback only; state is in memory.
 *
 * A function finds what Lambda's Node.js runtime provides, the AWS SDK v3, and nothing else: its code runs
 * outside the repository (so the project's node_modules cannot hide a module its bundle lacks) with
 * NODE_PATH on a folder that links the SDK's packages only.
 */
export async function startMinistack(
  options: EmulatorOptions & { readonly region: string },
): Promise<AwsEmulator> {
  if (!existsSync(MINISTACK)) {
    throw new Error(`${MINISTACK} is missing: run bash scripts/setup.sh --for hybrid (creates .venv-hybrid)`);
  }
  const port = options.port ?? 4566;
  await assertPortFree(port, 'AWS emulator');
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const functions = join(tmpdir(), `lakehouse-ministack-${port}`);
  rmSync(functions, { recursive: true, force: true });
  mkdirSync(functions, { recursive: true });
  const service = spawnService('ministack', MINISTACK, [], {
    logFile: join(dir, 'ministack.log'),
    cwd: dir,
    owner: options.owner,
    // Only what it needs: functions inherit its environment, and one AWS_ENDPOINT_URL or KAFKA_BROKERS
    // of the caller's would send them elsewhere.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GATEWAY_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      MINISTACK_HOST: '127.0.0.1',
      MINISTACK_REGION: options.region,
      S3_DATA_DIR: join(dir, 's3'),
      TMPDIR: functions,
      NODE_PATH: lambdaRuntimeModules(join(dir, 'lambda-runtime')),
    },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await whenReady(service, async (abort) => {
    await waitFor(
      async () => (await fetch(`${endpoint}/_ministack/health`, { signal: AbortSignal.timeout(2_000) })).ok,
      {
        timeoutMs: options.readyTimeoutMs ?? 60_000,
        abort,
        intervalMs: 100,
        what: `ministack on ${endpoint}`,
      },
    );
  });
  const stop = async () => {
    await service.stop();
    rmSync(functions, { recursive: true, force: true });
  };
  return { ...service, stop, endpoint };
}

/**
 * A node_modules folder holding what the Lambda Node.js runtime ships: the AWS SDK v3 (@aws-sdk/*) and
 * the packages it depends on, linked from the project's node_modules. Returns its path.
 */
export function lambdaRuntimeModules(dir: string, from = join(ROOT, 'node_modules')): string {
  const modules = join(dir, 'node_modules');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(modules, '@aws-sdk'), { recursive: true });
  const linked = new Set<string>();
  const link = (name: string) => {
    if (linked.has(name) || !existsSync(join(from, name, 'package.json'))) return;
    linked.add(name);
    const [scope] = name.split('/');
    if (name.includes('/')) mkdirSync(join(modules, scope as string), { recursive: true });
    symlinkSync(join(from, name), join(modules, name));
    const manifest = JSON.parse(readFileSync(join(from, name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) link(dependency);
  };
  for (const sdk of readdirSync(join(from, '@aws-sdk'))) link(`@aws-sdk/${sdk}`);
  return modules;
}

/** The URL API Gateway's stage `https://<id>.execute-api.<region>.amazonaws.com/<stage>/` has in ministack. */
export function ministackApiUrl(endpoint: string, stageUrl: string): string {
  const match = /^https:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/([^/]+)\/?$/.exec(stageUrl);
  if (!match) throw new Error(`Not an API Gateway stage URL: ${stageUrl}`);
  return `${endpoint}/_aws/execute-api/${match[1]}/${match[2]}`;
}
