import { type ChildProcess, fork, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { exitReason } from './supervisor';

/** Host processes of the local platform (broker, emulator): spawning, readiness, stopping. */

/** The pid whose exit ends a service, or 'none'. */
export type Owner = number | 'none';

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Ends the whole process group and resolves once the process is gone. */
  stop(): Promise<void>;
}

/** A port the OS reports free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Throws a readable error when something already listens on the port (usually a platform left running). */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(
        new Error(
          `Port ${port} (${what}) is already in use. Another instance may be running: ` +
            '`npx tsx localstack/services/cli.ts status`; or choose another port.',
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Starts a command in its own process group with stdout and stderr appended to logFile, stopped with the
 * returned handle or `stopProcess(pid)`. A watchdog ends the group when its owner (default: this process)
 * dies without stopping it (a killed test run, a crash), so nothing is left behind; owner 'none' lets it
 * run on (the CLI's `start` for humans).
 */
export function spawnService(
  name: string,
  command: string,
  args: readonly string[],
  options: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv; owner?: Owner },
): ServiceProcess & { child: ChildProcess; exited: Promise<string> } {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(exitReason(code, signal))),
  );
  // A command that cannot start emits 'error' after returning; the missing pid below reports it instead.
  child.on('error', () => {});
  if (child.pid === undefined) {
    throw new Error(`Could not start ${name} (${command}): is it installed? Run bash scripts/setup.sh`);
  }
  const pid = child.pid;
  const owner = options.owner ?? process.pid;
  if (owner !== 'none') watchOwner(owner, pid);
  return { name, pid, logFile: options.logFile, child, exited, stop: () => stopProcess(pid) };
}

function watchOwner(owner: number, pid: number): void {
  const script =
    'while kill -0 "$1" && kill -0 "$2"; do sleep 1; done 2>/dev/null; kill -0 "$2" 2>/dev/null && kill -TERM -"$2"';
  spawn('sh', ['-c', script, 'lakehouse-watchdog', String(owner), String(pid)], {
    detached: true,
    stdio: 'ignore',
  }).unref();
}

/** SIGTERM to the process group, SIGKILL after graceMs, resolves when the leader has exited. */
export async function stopProcess(pid: number, graceMs = 15_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const killed = await waitFor(() => !isAlive(pid), { timeoutMs: graceMs, intervalMs: 50 }).then(
    () => true,
    () => false,
  );
  if (!killed) {
    signal('SIGKILL');
    await waitFor(() => !isAlive(pid), { timeoutMs: 5_000, intervalMs: 50, what: `process ${pid} to exit` });
  }
}

/**
 * Polls until check() returns true (or a truthy value). `abort` is polled too: when it returns a message,
 * waiting stops with that error (e.g. the process being waited for has exited).
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs: number; intervalMs?: number; what?: string; abort?: () => string | undefined },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = options.abort?.();
    if (aborted) throw new Error(aborted);
    try {
      const result = await check();
      if (result) return result as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.what ?? 'condition'}${cause}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Waits until `ready` resolves; `ready` gets an abort check that fails fast when the process exits. A
 * service that never gets ready is stopped before the error propagates.
 */
export async function whenReady(
  service: ServiceProcess,
  ready: (abort: () => string | undefined) => Promise<void>,
): Promise<void> {
  try {
    await ready(() => exitedMessage(service));
  } catch (error) {
    await service.stop();
    throw error;
  }
}

/** Error for a service whose process exited while we waited for it to become ready. */
function exitedMessage(service: ServiceProcess): string | undefined {
  return isAlive(service.pid) ? undefined : startupFailure(service.name, service.logFile);
}

/** Advice for a startup failure whose log matches `match`. */
export interface StartupAdvice {
  readonly match: RegExp;
  readonly advice: string;
}

// An error line names an exception or error class, or is logged at ERROR/FATAL; stack frames are not.
const ERROR_LINE = /(Exception|Error)\b|\b(ERROR|FATAL)\b/;
const STACK_FRAME = /^\s+(at |\.\.\. \d+ more)/;

/**
 * What to tell a user about a service that died while starting: its log's last error line (not the 30 lines
 * of stack below it), the advice whose pattern the log matches, and where the whole log is.
 */
export function startupFailure(name: string, logFile: string, advice: readonly StartupAdvice[] = []): string {
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const lines = log.split('\n').filter((line) => line.trim() !== '' && !STACK_FRAME.test(line));
  const cause = lines.findLast((line) => ERROR_LINE.test(line)) ?? lines.at(-1) ?? 'no output';
  const todo = advice.find((a) => a.match.test(log));
  return [
    `${name} exited during startup: ${cause.trim()}`,
    ...(todo ? [`What to do: ${todo.advice}.`] : []),
    `The whole log: ${logFile}`,
  ].join('\n');
}

/** A TypeScript child process of the platform (local API, event source mapping) that talks over IPC. */
export interface ForkedService<M> {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The message the child sent when it was ready. */
  readonly ready: M;
  /** Resolves when the process has exited, with how. */
  readonly exited: Promise<string>;
  /** SIGTERM: the child finishes what is in flight, then exits. */
  stop(): Promise<void>;
  /** SIGKILL: dies at once, as a crash would. */
  kill(): Promise<void>;
}

/**
 * Forks `script` under tsx and resolves once it sends a message of type 'ready'; every message also goes to
 * onMessage. A child that exits or stays silent during startup is killed and reported as an error.
 */
export async function forkService<M extends { readonly type: string }>(
  name: string,
  script: string,
  options: {
    readonly cwd: string;
    readonly env: NodeJS.ProcessEnv;
    /** Every message from the child; `child` lets the parent answer it. */
    readonly onMessage?: (message: M, child: ChildProcess) => void;
    readonly readyTimeoutMs?: number;
    /** Appends the child's output to this file instead of the terminal. */
    readonly logFile?: string;
  },
): Promise<ForkedService<M>> {
  let output: 'inherit' | number = 'inherit';
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    output = openSync(options.logFile, 'a');
  }
  const child: ChildProcess = fork(script, [], {
    cwd: options.cwd,
    execArgv: ['--import', 'tsx'],
    // The parent has shown the AWS SDK's Node-version notice already; each child would repeat it.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
    stdio: ['ignore', output, output, 'ipc'],
  });
  if (typeof output === 'number') closeSync(output);
  const exited = new Promise<string>((done) =>
    child.once('exit', (code, signal) => done(exitReason(code, signal))),
  );
  child.on('message', (message: M) => options.onMessage?.(message, child));

  let timer: NodeJS.Timeout | undefined;
  let ready: M;
  try {
    ready = await Promise.race([
      new Promise<M>((resolve) =>
        child.on('message', (m: M) => {
          if (m.type === 'ready') resolve(m);
        }),
      ),
      exited.then((how) => {
        throw new Error(`${name} ${how} during startup`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name} was not ready in time`)),
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
  return {
    pid: child.pid as number,
    child,
    ready,
    exited,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}
