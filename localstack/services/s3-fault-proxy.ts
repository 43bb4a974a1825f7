import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prng } from '../tools/generator/records';

/**
 * An HTTP proxy in front of the AWS emulator that makes S3 misbehave on demand: a share of requests
 * answered with S3's own 500 InternalError / 503 SlowDown, and latency added to every request. Point a
 * client's endpoint (e.g. AWS_ENDPOINT_URL_S3) at `url`; change the faults at run time with `set()` or,
 * from another process, `POST <url>/__faults` with a JSON body `{"errorShare":0.5,"latencyMs":200}`
 * (no bucket can be named `__faults`). Faults are drawn from a seeded generator, so a schedule replays.
 */

export interface Faults {
  /** Share of requests (0..1) answered with an error instead of being forwarded. */
  readonly errorShare: number;
  /** Milliseconds added before every request is answered. */
  readonly latencyMs: number;
  /** Which error: 503 SlowDown (throttling) or 500 InternalError. */
  readonly status: 500 | 503;
}

export interface S3FaultProxy {
  readonly url: string;
  set(faults: Partial<Faults>): void;
  faults(): Faults;
  /** Requests forwarded and answered with an injected error so far. */
  counts(): { readonly forwarded: number; readonly failed: number };
  /**
   * Calls `hook` whenever the emulator has answered a forwarded request, before the client gets the answer
   * (e.g. to kill a writer right after one object is stored and before it can write the next); undefined
   * removes it.
   */
  intercept(hook: InterceptHook | undefined): void;
  close(): Promise<void>;
}

export type InterceptHook = (request: {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}) => Promise<void> | void;

const ERROR_BODY: Record<Faults['status'], string> = {
  500: '<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>',
  503: '<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>',
};
const CONTROL_PATH = '/__faults';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startS3FaultProxy(options: {
  /** The emulator, e.g. http://127.0.0.1:4566. */
  readonly target: string;
  readonly faults?: Partial<Faults>;
  readonly seed?: number;
  readonly port?: number;
}): Promise<S3FaultProxy> {
  const target = new URL(options.target);
  let faults: Faults = { errorShare: 0, latencyMs: 0, status: 503, ...options.faults };
  const random = prng(options.seed ?? 1);
  let forwarded = 0;
  let failed = 0;
  let hook: InterceptHook | undefined;

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === CONTROL_PATH && req.method === 'POST') {
      faults = { ...faults, ...(JSON.parse(await readBody(req)) as Partial<Faults>) };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(faults));
      return;
    }
    const { errorShare, latencyMs, status } = faults;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (random() < errorShare) {
      failed += 1;
      await readBody(req); // S3 reads the upload before it fails it
      res
        .writeHead(status, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error>${ERROR_BODY[status]}</Error>`);
      return;
    }
    forwarded += 1;
    const upstream = request(
      {
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (reply) => {
        const status = reply.statusCode ?? 502;
        const pass = () => {
          res.writeHead(status, reply.headers);
          reply.pipe(res);
        };
        if (!hook) return pass();
        Promise.resolve(hook({ method: req.method ?? 'GET', path: req.url ?? '/', status })).then(pass, pass);
      },
    );
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    answer(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    set: (change) => {
      faults = { ...faults, ...change };
    },
    faults: () => faults,
    counts: () => ({ forwarded, failed }),
    intercept: (next) => {
      hook = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
