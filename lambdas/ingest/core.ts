/**
 * The ingest API as a pure function of (request, registry, producer, clock, limits): no AWS types, no
 * environment, no globals. The Lambda handler and the local platform adapt their requests to it.
 */
import type { DatasetRegistry } from '../../schemas';
import {
  batchRouteOf,
  DOCS_ROUTE,
  HEALTH_ROUTE,
  OPENAPI_ROUTE,
  REDOC_ROUTE,
  WELCOME_MESSAGE,
} from '../../schemas/api/openapi';
import { type IngestLimits, KAFKA_MESSAGE_MAX_BYTES } from './config';
import { CDN_ASSETS_URL } from './docs';
import type { HttpRequest, IngestResult } from './http';
import type { KafkaProducer } from './kafka/producer';
import { reply } from './reply';
import { ingestBatch } from './routes/batch';
import type { RouteContext } from './routes/context';
import { Documentation } from './routes/documentation';
import { KafkaHealth } from './routes/health';
import { ingestOne } from './routes/single';

export interface IngestDependencies {
  readonly registry: DatasetRegistry;
  readonly producer: KafkaProducer;
  /** Epoch milliseconds; ingest time and produce latency come from it. */
  readonly clock: () => number;
  readonly limits: IngestLimits;
  /** How long a /health answer is reused, so probes cannot hammer the cluster. */
  readonly healthCacheMs?: number;
  /** Where /docs and /redoc load their JavaScript and CSS from (docs.ts); default FastAPI's CDN. */
  readonly docsAssetsUrl?: string;
}

export type IngestCore = (request: HttpRequest) => Promise<IngestResult>;

type Route = (request: HttpRequest) => Promise<IngestResult> | IngestResult;

/** The route table (path → method → route) and the dispatch; each route lives in routes/. */
export function createIngestCore(deps: IngestDependencies): IngestCore {
  const { registry, producer, clock, limits } = deps;
  const context: RouteContext = {
    producer,
    clock,
    limits,
    maxMessageBytes: limits.maxMessageBytes ?? KAFKA_MESSAGE_MAX_BYTES,
    health: new KafkaHealth(producer, clock, deps.healthCacheMs ?? 5_000),
  };
  const docs = new Documentation(registry.datasets, limits, deps.docsAssetsUrl ?? CDN_ASSETS_URL);
  const routes = new Map<string, Map<string, Route>>([
    ['/', new Map([['GET', () => reply(200, { message: WELCOME_MESSAGE })]])],
    [HEALTH_ROUTE, new Map([['GET', () => context.health.answer()]])],
    [OPENAPI_ROUTE, new Map([['GET', () => docs.openapiJson()]])],
    [DOCS_ROUTE, new Map([['GET', (request) => docs.swaggerUi(request)]])],
    [REDOC_ROUTE, new Map([['GET', (request) => docs.redoc(request)]])],
  ]);
  for (const dataset of registry.datasets) {
    routes.set(
      dataset.definition.route,
      new Map([['POST', (request) => ingestOne(context, dataset, request)]]),
    );
    routes.set(
      batchRouteOf(dataset.definition),
      new Map([['POST', (request) => ingestBatch(context, dataset, request)]]),
    );
  }

  return async (request) => {
    // Trailing slash accepted on every route (FastAPI redirected; API clients rarely follow a POST redirect).
    const path =
      request.path.length > 1 && request.path.endsWith('/') ? request.path.slice(0, -1) : request.path;
    const methods = routes.get(path);
    if (!methods) return reply(404, { detail: 'Not Found' });
    const route = methods.get(request.method.toUpperCase());
    if (!route)
      return reply(405, { detail: 'Method Not Allowed' }, { allow: [...methods.keys()].join(', ') });
    return route(request);
  };
}
