import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assertPortFree, spawnService, whenReady } from '../process';
import { type AwsEmulator, type EmulatorOptions, waitForEndpoint } from './moto';

/**
 * LocalStack 4.13.1 as a host process (`python -m localstack.runtime.main`, no Docker), the alternative
 * to moto selected by LAKEHOUSE_EMULATOR=localstack. Installed into .venv-localstack on first use.
 * The open-source edition has no Glue API (it answers 501), so the catalog is moto-only.
 */

import { REPO_ROOT as ROOT } from '../../paths';

const VENV = join(ROOT, '.venv-localstack');
const PYTHON = join(VENV, 'bin', 'python');
const REQUIREMENTS = join(__dirname, 'requirements-localstack.txt');

/** Creates .venv-localstack from requirements-localstack.txt unless it is current (visible pip progress). */
export function ensureLocalStackInstalled(): void {
  const stamp = join(VENV, '.requirements');
  const wanted = readFileSync(REQUIREMENTS, 'utf8');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  process.stderr.write('==> LocalStack 4.13.1 into .venv-localstack (first use takes several minutes)\n');
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', REQUIREMENTS], {
    stdio: 'inherit',
  });
  writeFileSync(stamp, wanted);
}

export async function startLocalStack(options: EmulatorOptions): Promise<AwsEmulator> {
  ensureLocalStackInstalled();
  const port = options.port ?? 4566;
  await assertPortFree(port, 'AWS emulator');
  const dir = resolve(options.dir);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const service = spawnService('localstack', PYTHON, ['-m', 'localstack.runtime.main'], {
    logFile: join(dir, 'localstack.log'),
    cwd: dir,
    owner: options.owner,
    env: {
      ...process.env,
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      // Host mode with every folder inside dir, even when this host is itself a container.
      OVERRIDE_IN_DOCKER: '0',
      FILESYSTEM_ROOT: join(dir, 'filesystem'),
      TMPDIR: tmp,
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
    },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await whenReady(service, (abort) =>
    waitForEndpoint(endpoint, { timeoutMs: options.readyTimeoutMs ?? 180_000, abort }),
  );
  return { ...service, endpoint };
}
