import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DATASETS } from '../../../schemas';
import {
  batchRouteOf,
  DOCS_ROUTE,
  HEALTH_ROUTE,
  OPENAPI_ROUTE,
  REDOC_ROUTE,
} from '../../../schemas/api/openapi';
import { childConfig } from '../../settings';
import type { ApiMetrics, ObservedRequest, RenderedMetrics } from './metrics';
import { type ProxyHandler, startLocalApi } from './server';

/**
 * The local API as its own process, started (and restarted when it dies) by ./process.ts: API Gateway and
 * the ingest Lambda stay up when the platform's other parts fail, and a killed API is a fault the platform
 * must survive (`npm run chaos`). The real ingest handler reads its settings from the environment, as on
 * Lambda; the metrics live in the parent, which outlives this process, and are reached over IPC.
 */

export interface ApiProcessConfig {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Where the /docs and /redoc pages' scripts are served from node_modules (offline). */
  readonly docsAssetsPath: string;
}

export type ApiProcessMessage =
  | { readonly type: 'ready'; readonly url: string }
  | ({ readonly type: 'request' } & ObservedRequest)
  | {
      readonly type: 'records';
      readonly dataset: string;
      readonly produced: number;
      readonly rejected: number;
    }
  | { readonly type: 'render-metrics'; readonly id: number };

export type ApiParentMessage = { readonly type: 'metrics'; readonly id: number } & RenderedMetrics;

const send = (message: ApiProcessMessage) => process.send?.(message);

/** Metrics recorded and rendered by the parent process. */
function parentMetrics(): ApiMetrics {
  const waiting = new Map<number, (metrics: RenderedMetrics) => void>();
  let next = 0;
  process.on('message', (message: ApiParentMessage) => {
    if (message.type !== 'metrics') return;
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  return {
    observeRequest: (request) => send({ type: 'request', ...request }),
    render: () =>
      new Promise((resolve) => {
        next += 1;
        waiting.set(next, resolve);
        send({ type: 'render-metrics', id: next });
      }),
  };
}

const normalise = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

/** Accepted and rejected records of one answer (single: 200/422; batch: its tallies). */
export function recordCounts(
  event: APIGatewayProxyEvent,
  result: APIGatewayProxyResult,
): { produced: number; rejected: number } | undefined {
  if (event.httpMethod !== 'POST') return undefined;
  if (normalise(event.path).endsWith('/batch')) {
    if (![200, 207, 422].includes(result.statusCode)) return undefined;
    const body = JSON.parse(result.body) as { accepted?: number; rejected?: number; results?: unknown[] };
    return { produced: body.accepted ?? 0, rejected: body.rejected ?? body.results?.length ?? 0 };
  }
  if (result.statusCode === 200) return { produced: 1, rejected: 0 };
  if (result.statusCode === 422) return { produced: 0, rejected: 1 };
  return undefined;
}

async function main(): Promise<void> {
  const config = childConfig<ApiProcessConfig>('api');
  const ingest = await import('../../../lambdas/ingest/handler');

  const datasetByRoute = new Map<string, string>();
  for (const d of DATASETS) {
    datasetByRoute.set(d.route, d.name);
    datasetByRoute.set(batchRouteOf(d), d.name);
  }
  const known = new Set([
    '/',
    HEALTH_ROUTE,
    OPENAPI_ROUTE,
    DOCS_ROUTE,
    REDOC_ROUTE,
    ...datasetByRoute.keys(),
  ]);

  const api = await startLocalApi({
    handler: ingest.handler as ProxyHandler,
    metrics: parentMetrics(),
    host: config.host,
    port: config.port,
    timeoutMs: config.timeoutMs,
    docsAssetsPath: config.docsAssetsPath,
    routeLabel: (path) => (known.has(normalise(path)) ? normalise(path) : 'unmatched'),
    onResult: (event, result) => {
      const dataset = datasetByRoute.get(normalise(event.path));
      const counts = dataset && recordCounts(event, result);
      if (dataset && counts) send({ type: 'records', dataset, ...counts });
    },
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    Promise.allSettled([api.close(), ingest.closeHandler()]).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent went away without stopping us: stop rather than linger.
  process.once('disconnect', stop);
  send({ type: 'ready', url: api.url });
}

main().catch((error: Error) => {
  process.stderr.write(`[local-api] failed to start: ${error.stack ?? error}\n`);
  process.exit(1);
});
