import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, relative } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DOCS_ASSET_PACKAGES } from '../../../lambdas/ingest/docs';
import type { ApiMetrics } from './metrics';
import { BAD_GATEWAY, fromProxyResult, type HttpResponse, lambdaContext, toProxyEvent } from './proxy-event';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalApiOptions {
  readonly handler: ProxyHandler;
  readonly metrics: ApiMetrics;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly stage?: string;
  readonly functionName?: string;
  /** The Lambda timeout; API Gateway answers 502 when the handler runs longer (or 29 s, its own limit). */
  readonly timeoutMs: number;
  /** Maps a request path to a low-cardinality metrics label. */
  readonly routeLabel: (path: string) => string;
  /** Called with every handler result, e.g. to count produced and rejected records. */
  readonly onResult?: (event: APIGatewayProxyEvent, result: APIGatewayProxyResult) => void;
  /**
   * URL path (e.g. `/docs-assets/`) under which the docs pages' assets are served from node_modules in
   * the CDN's layout `<package>@<version>/<file>`: the ingest handler's DOCS_ASSETS_URL, so /docs and
   * /redoc work offline.
   */
  readonly docsAssetsPath?: string;
}

export interface LocalApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** A file of a docs asset package (`<package>@<version>/<file>`), or undefined when there is none. */
async function docsAsset(path: string): Promise<HttpResponse | undefined> {
  const [, name, version, file] = /^((?:@[^/]+\/)?[^/@]+)@([^/]+)\/(.+)$/.exec(path) ?? [];
  if (!name || !file || DOCS_ASSET_PACKAGES[name as keyof typeof DOCS_ASSET_PACKAGES] !== version) return;
  const root = dirname(require.resolve(`${name}/package.json`));
  const target = join(root, file);
  const contentType = CONTENT_TYPES[extname(target)];
  if (!contentType || relative(root, target).startsWith('..')) return;
  const body = await readFile(target).catch(() => undefined);
  return body && { status: 200, headers: { 'Content-Type': [contentType] }, body };
}

/** API Gateway refuses payloads above 10 MB before invoking the integration. */
const API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;
const API_GATEWAY_TIMEOUT_MS = 29_000;

/** The local API: plain HTTP in, API Gateway proxy events to the real handler, its result back out. */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const { handler, metrics } = options;
  const stage = options.stage ?? 'local';
  const functionName = options.functionName ?? 'ingest';
  const timeoutMs = Math.min(options.timeoutMs, API_GATEWAY_TIMEOUT_MS);

  async function respond(req: IncomingMessage, body: Buffer): Promise<HttpResponse> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/metrics' && req.method === 'GET') {
      const { contentType, body: text } = await metrics.render();
      return { status: 200, headers: { 'Content-Type': [contentType] }, body: Buffer.from(text) };
    }
    const { docsAssetsPath } = options;
    if (docsAssetsPath && path.startsWith(docsAssetsPath) && req.method === 'GET') {
      return (
        (await docsAsset(path.slice(docsAssetsPath.length))) ?? {
          status: 404,
          headers: { 'Content-Type': ['application/json'] },
          body: Buffer.from('{"detail": "Not Found"}'),
        }
      );
    }
    if (body.length > API_GATEWAY_MAX_PAYLOAD) {
      return {
        status: 413,
        headers: { 'Content-Type': ['application/json'] },
        body: Buffer.from('{"message": "Request Too Long"}'),
      };
    }
    const event = toProxyEvent(
      {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      },
      { requestId: randomUUID(), stage, accountId: '000000000000', apiId: 'local', now: new Date() },
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`handler timed out after ${timeoutMs} ms`)), timeoutMs);
      });
      const result = await Promise.race([
        handler(event, lambdaContext(functionName, timeoutMs, randomUUID())),
        timeout,
      ]);
      if (!result || typeof result.statusCode !== 'number') throw new Error('malformed Lambda proxy result');
      options.onResult?.(event, result);
      return fromProxyResult(result);
    } catch (error) {
      console.error(`[local-api] ${event.httpMethod} ${event.path}: ${(error as Error).stack ?? error}`);
      return BAD_GATEWAY;
    } finally {
      clearTimeout(timer);
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep counting but stop buffering once the payload is certainly too large.
      if (size <= API_GATEWAY_MAX_PAYLOAD + 1) chunks.push(chunk);
    });
    req.on('end', () => {
      respond(req, Buffer.concat(chunks))
        .catch((): HttpResponse => BAD_GATEWAY)
        .then((response) => {
          for (const [name, values] of Object.entries(response.headers)) res.setHeader(name, values);
          res.writeHead(response.status).end(response.body);
          const route = options.routeLabel(new URL(req.url ?? '/', 'http://localhost').pathname);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.observeRequest({ method: req.method ?? 'GET', route, status: response.status, seconds });
        });
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
