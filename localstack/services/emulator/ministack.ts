import { existsSync, mkdirSync } from 'node:fs';
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
  const service = spawnService('ministack', MINISTACK, [], {
    logFile: join(dir, 'ministack.log'),
    cwd: dir,
    owner: options.owner,
    env: {
      ...process.env,
      GATEWAY_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      MINISTACK_HOST: '127.0.0.1',
      MINISTACK_REGION: options.region,
      S3_DATA_DIR: join(dir, 's3'),
      TMPDIR: dir,
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
  return { ...service, endpoint };
}

/** The URL API Gateway's stage `https://<id>.execute-api.<region>.amazonaws.com/<stage>/` has in ministack. */
export function ministackApiUrl(endpoint: string, stageUrl: string): string {
  const match = /^https:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/([^/]+)\/?$/.exec(stageUrl);
  if (!match) throw new Error(`Not an API Gateway stage URL: ${stageUrl}`);
  return `${endpoint}/_aws/execute-api/${match[1]}/${match[2]}`;
}
