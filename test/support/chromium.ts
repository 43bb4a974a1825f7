import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { waitFor } from '../../localstack/services/process';

/**
 * A real headless Chromium (Debian's chromium-headless-shell, installed by scripts/setup.sh) driven over
 * the DevTools protocol on `--remote-debugging-pipe`: JSON messages separated by NUL on fds 3 (in) and 4
 * (out), so no WebSocket client is needed.
 */
const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumBinary(): string | undefined {
  return [process.env.CHROMIUM_BIN, ...CANDIDATES].find((path) => path && existsSync(path));
}

type Params = Record<string, unknown>;
interface CdpMessage {
  id?: number;
  method?: string;
  params?: Params;
  sessionId?: string;
  result?: Params;
  error?: { message: string };
}

export interface Page {
  send<T = Params>(method: string, params?: Params): Promise<T>;
  /** Evaluates an expression in the page (awaiting promises) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; returns its value (fails with `what` after `timeoutMs`). */
  waitFor<T>(expression: string, what: string, timeoutMs?: number): Promise<T>;
  /** Every request the page made, with its resource type (Document, Script, Image, Fetch…). */
  readonly requests: readonly { url: string; type: string }[];
}

export interface Browser {
  newPage(url: string): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(binary: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  const child: ChildProcess = spawn(
    binary,
    [
      '--remote-debugging-pipe',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-extensions',
      '--window-size=1280,1600',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Params) => void; reject: (e: Error) => void }>();
  const listeners: ((m: CdpMessage) => void)[] = [];
  let buffered = '';
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end = buffered.indexOf('\0');
    while (end >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as CdpMessage;
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\0');
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`CDP: ${message.error.message}`));
        else waiter?.resolve(message.result ?? {});
      } else {
        for (const listener of listeners) listener(message);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`Chromium exited (${code}). Last stderr:\n${stderr}`));
    }
    pending.clear();
  });

  const send = <T = Params>(method: string, params: Params = {}, sessionId?: string) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (r: Params) => void, reject });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    });
  await send('Browser.getVersion');

  return {
    async newPage(url) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      const requests: { url: string; type: string }[] = [];
      listeners.push((m) => {
        if (m.sessionId === sessionId && m.method === 'Network.requestWillBeSent' && m.params) {
          const { request, type } = m.params as { request: { url: string }; type: string };
          requests.push({ url: request.url, type });
        }
      });
      const pageSend = <T = Params>(method: string, params?: Params) => send<T>(method, params, sessionId);
      await pageSend('Network.enable');
      await pageSend('Page.enable');
      await pageSend('Page.navigate', { url });
      const evaluate = async <T>(expression: string): Promise<T> => {
        const { result, exceptionDetails } = await pageSend<{
          result: { value?: T };
          exceptionDetails?: { text: string; exception?: { description?: string } };
        }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
        if (exceptionDetails) {
          throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
        }
        return result.value as T;
      };
      return {
        send: pageSend,
        evaluate,
        requests,
        waitFor: <T>(expression: string, what: string, timeoutMs = 30_000) =>
          waitFor(() => evaluate<T>(expression), { timeoutMs, intervalMs: 100, what }) as Promise<T>,
      };
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const stream of child.stdio) stream?.destroy();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
