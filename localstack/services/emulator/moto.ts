import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT as ROOT } from '../../paths';
import {
  assertPortFree,
  type Owner,
  type ServiceProcess,
  spawnService,
  waitFor,
  whenReady,
} from '../process';
export const MOTO_SERVER = join(ROOT, '.venv', 'bin', 'moto_server');

export interface EmulatorOptions {
  /** Folder for the emulator's log (and state, where the emulator keeps any). */
  readonly dir: string;
  /** Port on 127.0.0.1 (default 4566, LocalStack's). */
  readonly port?: number;
  readonly readyTimeoutMs?: number;
  /** Whose exit ends the process (see spawnService). */
  readonly owner?: Owner;
}

export interface AwsEmulator extends ServiceProcess {
  /** AWS_ENDPOINT_URL for every SDK client. */
  readonly endpoint: string;
}

/** moto in server mode from the project virtualenv: S3, Glue and the rest in one in-memory process. */
export async function startMoto(options: EmulatorOptions): Promise<AwsEmulator> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(
      `${MOTO_SERVER} is missing: run bash scripts/setup.sh (creates .venv from requirements.txt)`,
    );
  }
  const port = options.port ?? 4566;
  await assertPortFree(port, 'AWS emulator');
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const service = spawnService('moto', MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    logFile: join(dir, 'moto.log'),
    owner: options.owner,
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await whenReady(service, (abort) =>
    waitForEndpoint(endpoint, { timeoutMs: options.readyTimeoutMs ?? 120_000, abort }),
  );
  return { ...service, endpoint };
}

/** Resolves once the endpoint answers an S3 ListBuckets (an unsigned GET / answers on moto and LocalStack). */
export async function waitForEndpoint(
  endpoint: string,
  options: { timeoutMs: number; abort?: () => string | undefined },
): Promise<void> {
  await waitFor(async () => (await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) })).ok, {
    ...options,
    intervalMs: 100,
    what: `AWS emulator on ${endpoint}`,
  });
}
