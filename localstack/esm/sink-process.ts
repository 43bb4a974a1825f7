import { type ChildProcess, fork } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { SinkProcessConfig, SinkProcessMessage } from './main';

/** Starts and stops the local event source mapping process (./main.ts). */

export interface SinkProcess {
  readonly pid: number;
  /** SIGTERM: the invocation in flight finishes and is committed, then the process exits. */
  stop(): Promise<void>;
  /** SIGKILL: dies mid-batch, as a crashed poller would; nothing in flight is committed. */
  kill(): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..');

export async function startSinkProcess(
  config: SinkProcessConfig,
  options: {
    readonly env?: NodeJS.ProcessEnv;
    readonly onMessage?: (message: SinkProcessMessage) => void;
    readonly readyTimeoutMs?: number;
  } = {},
): Promise<SinkProcess> {
  const child: ChildProcess = fork(join(__dirname, 'main.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...(options.env ?? process.env), LAKEHOUSE_ESM: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.on('message', (message: SinkProcessMessage) => options.onMessage?.(message));

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((ready) =>
        child.on('message', (m: SinkProcessMessage) => {
          if (m.type === 'ready') ready();
        }),
      ),
      exited.then(() => {
        throw new Error(`The sink process exited during startup (code ${child.exitCode})`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('The sink process was not ready in time')),
          options.readyTimeoutMs ?? 90_000,
        );
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { pid: child.pid as number, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
