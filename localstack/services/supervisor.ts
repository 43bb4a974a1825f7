/**
 * Supervision of the local platform's processes, as the managed services do it on AWS (MSK replaces a failed
 * broker, Lambda's event source mapping restarts its pollers, API Gateway always has a Lambda to call): a
 * broker, an event source mapping process or the local API that dies is started again with backoff, and each
 * restart is logged, counted (`/metrics`) and shown in the summary.
 */

/** One running instance of a supervised process. */
export interface Instance {
  readonly pid: number;
  /** Resolves when the process has exited, with how (e.g. "signal SIGKILL", "exit code 1"). */
  readonly exited: Promise<string>;
  /** Ends the process on purpose (no restart follows) and resolves once it is gone. */
  stop(): Promise<void>;
}

export interface RestartEvent {
  readonly process: string;
  /** How the previous instance ended. */
  readonly reason: string;
  /** Restarts of this process so far, this one included. */
  readonly restarts: number;
  /** Backoff waited before this restart. */
  readonly delayMs: number;
  /** The new instance's pid, or the error that kept it from starting (another try follows). */
  readonly pid?: number;
  readonly error?: string;
}

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** An instance that ran this long resets the backoff to initialMs. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 10_000, resetAfterMs: 30_000 };

/** Restart counts and listeners shared by every supervised process of one platform run. */
export class Supervision {
  private readonly counts = new Map<string, number>();
  private readonly listeners: ((event: RestartEvent) => void)[] = [];

  constructor(
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {}

  onRestart(listener: (event: RestartEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Restarts per process name. */
  restarts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  record(event: Omit<RestartEvent, 'restarts'>): RestartEvent {
    const restarts = (this.counts.get(event.process) ?? 0) + (event.error ? 0 : 1);
    this.counts.set(event.process, restarts);
    const full = { ...event, restarts };
    this.log(
      event.error
        ? `[supervisor] ${event.process} could not be restarted (${event.error}); trying again`
        : `[supervisor] ${event.process} ${event.reason}; restarted after ${event.delayMs} ms as pid ${event.pid} (restart #${restarts})`,
    );
    for (const listener of this.listeners) listener(full);
    return full;
  }
}

export interface Supervised<I extends Instance> {
  readonly name: string;
  /** The running instance; undefined while the process is down, waiting for its restart. */
  current(): I | undefined;
  /** Stops the process for good (by default with the instance's own stop()): no restart follows. */
  stop(end?: (instance: I) => Promise<void>): Promise<void>;
}

/**
 * Starts `start()` and keeps it running: whenever an instance exits without `stop()` having been called, a
 * new one is started after a backoff that doubles up to backoff.maxMs (and resets once an instance has run
 * for backoff.resetAfterMs). The first start's error is thrown to the caller; later ones are retried.
 */
export async function supervise<I extends Instance>(
  name: string,
  start: () => Promise<I>,
  supervision: Supervision,
): Promise<Supervised<I>> {
  const { backoff } = supervision;
  let instance: I | undefined = await start();
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    let delayMs = backoff.initialMs;
    let since = Date.now();
    while (!stopped && instance) {
      const reason = await instance.exited;
      instance = undefined;
      if (stopped) return;
      if (Date.now() - since >= backoff.resetAfterMs) delayMs = backoff.initialMs;
      for (;;) {
        await pause(delayMs);
        if (stopped) return;
        const waited = delayMs;
        delayMs = Math.min(delayMs * 2, backoff.maxMs);
        try {
          instance = await start();
        } catch (error) {
          supervision.record({ process: name, reason, delayMs: waited, error: (error as Error).message });
          continue;
        }
        if (stopped) {
          await instance.stop();
          return;
        }
        since = Date.now();
        supervision.record({ process: name, reason, delayMs: waited, pid: instance.pid });
        break;
      }
    }
  })();

  return {
    name,
    current: () => instance,
    async stop(end = (i: I) => i.stop()) {
      stopped = true;
      wakeUp?.();
      if (instance) await end(instance);
      await loop;
    },
  };
}

/** How a child process ended, in words. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}
