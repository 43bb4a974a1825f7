import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  close(): Promise<void>;
}

const ERROR_BODY: Record<Faults['status'], string> = {
  500: '<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>',
  503: '<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>',
};
const CONTROL_PATH = '/__faults';

/** mulberry32: a small seeded generator, enough to make a fault schedule reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const random = seeded(options.seed ?? 1);
  let forwarded = 0;
  let failed = 0;

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
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
