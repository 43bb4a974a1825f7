/**
 * The ingest API as a pure function of (request, registry, producer, clock, limits): no AWS types, no
 * environment, no globals. The Lambda handler and the local platform adapt their requests to it.
 */
import {
  type DatasetRegistry,
  type FieldError,
  ingestHeaders,
  type RegisteredDataset,
  type RegisteredVersion,
} from '../../schemas';
import {
  acceptedMessage,
  batchRouteOf,
  DOCS_ROUTE,
  HEALTH_ROUTE,
  OPENAPI_ROUTE,
  openApiDocument,
  REDOC_ROUTE,
  validationErrorMessage,
  WELCOME_MESSAGE,
} from '../../schemas/openapi';
import { type KafkaMessage, type KafkaProducer, messageBytes } from '../shared/kafka/producer';
import { type IngestLimits, KAFKA_MESSAGE_MAX_BYTES } from './config';
import { CDN_ASSETS_URL, type DocsPage, redocHtml, swaggerUiHtml } from './docs';
import { type BodyProblem, parseJsonBody } from './request-body';
import { requestedVersion } from './schema-version';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  /** Carried into every record's metadata (the API Gateway request id on AWS). */
  readonly requestId: string;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What happened to the records of one request, for metrics and logs. */
export interface IngestOutcome {
  readonly dataset: string;
  readonly accepted: number;
  readonly rejected: number;
  /** Time from send to acknowledgement, when something was sent. */
  readonly produceMs?: number;
  /** Why Kafka failed, when it did (the response is then 503). */
  readonly produceError?: unknown;
}

export interface IngestResult {
  readonly response: HttpResponse;
  readonly outcome?: IngestOutcome;
}

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

type RouteHandler = (request: HttpRequest) => Promise<IngestResult>;

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

function reply(statusCode: number, body: unknown, headers: Record<string, string> = {}): IngestResult {
  return { response: { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) } };
}

/** FastAPI's `loc` starts with "body"; the registry's validators report paths inside the record. */
const inBody = (errors: readonly FieldError[], prefix: readonly (string | number)[] = []) =>
  errors.map(({ loc, msg, type, ctx }) => ({
    loc: ['body', ...prefix, ...loc],
    msg,
    type,
    ...(ctx && { ctx }),
  }));

function problemReply(problem: BodyProblem, title: string): IngestResult {
  if (typeof problem.detail === 'string') return reply(problem.statusCode, { detail: problem.detail });
  const detail = inBody(problem.detail);
  return reply(problem.statusCode, { message: validationErrorMessage(detail.length, title), detail });
}

/** An unknown X-Schema-Version: 422 as FastAPI answers a bad header (its `loc` starts with "header"). */
const versionReply = (error: FieldError, title: string) =>
  reply(422, { message: validationErrorMessage(1, title), detail: [error] });

/**
 * What a message weighs against the broker's limit: UTF-8 bytes of key, value and headers, uncompressed
 * (compression can only shrink it). JavaScript string lengths count UTF-16 units, up to 3x too few.
 */
const MESSAGE_TOO_LARGE = 'message_too_large';

const tooLargeForKafka = (what: string, bytes: number, max: number) =>
  `${what} is ${bytes} bytes once encoded for Kafka (UTF-8); the limit is ${max} bytes`;

const unavailable = () =>
  reply(503, { detail: 'Kafka is unavailable; nothing was ingested. Retry later.' }, { 'retry-after': '1' });

export function createIngestCore(deps: IngestDependencies): IngestCore {
  const { registry, producer, clock, limits } = deps;
  const maxMessageBytes = limits.maxMessageBytes ?? KAFKA_MESSAGE_MAX_BYTES;
  const healthCacheMs = deps.healthCacheMs ?? 5_000;
  let health: { at: number; ok: Promise<boolean> } | undefined;
  let openapiBody: string | undefined;
  const docsAssetsUrl = deps.docsAssetsUrl ?? CDN_ASSETS_URL;

  /** Keeps declared fields only: unknown fields are ignored, as pydantic did, and never reach Kafka. */
  function declaredFields(
    dataset: RegisteredVersion,
    record: Record<string, unknown>,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(dataset.definition.fields)) if (name in record) out[name] = record[name];
    return out;
  }

  /** Key = id, value = the canonical record, flat; the ingest metadata goes in headers (SPEC §5). */
  function message(
    dataset: RegisteredVersion,
    record: Record<string, unknown>,
    request: HttpRequest,
    now: number,
  ): KafkaMessage {
    const { definition } = dataset;
    return {
      key: String(record[definition.idField]),
      value: JSON.stringify(declaredFields(dataset, record)),
      headers: ingestHeaders({
        dataset: definition.name,
        schema_version: definition.schemaVersion,
        ingest_time: new Date(now).toISOString(),
        request_id: request.requestId,
      }),
    };
  }

  /** A body judged by the contract of the version it follows and encoded for Kafka, or why it cannot go there. */
  function encode(
    dataset: RegisteredVersion,
    input: unknown,
    request: HttpRequest,
    now: number,
  ): { ok: true; message: KafkaMessage; bytes: number; id: unknown } | { ok: false; errors: FieldError[] } {
    const result = dataset.accept(input);
    if (!result.ok) return result;
    const encoded = message(dataset, result.record, request, now);
    const bytes = messageBytes(encoded);
    if (bytes > maxMessageBytes) {
      const msg = tooLargeForKafka('The record', bytes, maxMessageBytes);
      return { ok: false, errors: [{ loc: [], msg, type: MESSAGE_TOO_LARGE }] };
    }
    return { ok: true, message: encoded, bytes, id: result.record[dataset.definition.idField] };
  }

  const parseBody = (request: HttpRequest) =>
    parseJsonBody(
      request.body,
      request.isBase64Encoded,
      request.headers['content-type'],
      limits.maxBodyBytes,
    );

  async function produce(dataset: RegisteredDataset, messages: KafkaMessage[]) {
    const started = clock();
    try {
      await producer.send(dataset.topic, messages);
      reportHealth(true);
      return { ok: true as const, produceMs: clock() - started };
    } catch (produceError) {
      reportHealth(false);
      return { ok: false as const, produceError };
    }
  }

  function single(dataset: RegisteredDataset): RouteHandler {
    const { definition } = dataset;
    return async (request) => {
      const version = requestedVersion(dataset, request.headers);
      if (!version.ok)
        return { ...versionReply(version.error, definition.title), outcome: rejected(definition.name, 1) };
      const parsed = parseBody(request);
      if (!parsed.ok)
        return { ...problemReply(parsed.problem, definition.title), outcome: rejected(definition.name, 1) };
      const result = encode(version.version, parsed.value, request, clock());
      if (!result.ok) {
        const detail = inBody(result.errors);
        const tooLarge = result.errors[0]?.type === MESSAGE_TOO_LARGE;
        return {
          ...(tooLarge
            ? reply(413, { detail: result.errors[0]?.msg })
            : reply(422, { message: validationErrorMessage(detail.length, definition.title), detail })),
          outcome: rejected(definition.name, 1),
        };
      }
      const sent = await produce(dataset, [result.message]);
      if (!sent.ok) {
        return {
          ...unavailable(),
          outcome: { dataset: definition.name, accepted: 0, rejected: 0, produceError: sent.produceError },
        };
      }
      return {
        ...reply(200, {
          message: acceptedMessage(definition),
          [definition.idField]: result.id,
        }),
        outcome: { dataset: definition.name, accepted: 1, rejected: 0, produceMs: sent.produceMs },
      };
    };
  }

  function batch(dataset: RegisteredDataset): RouteHandler {
    const { definition } = dataset;
    const batchTitle = `${definition.title}Batch`;
    return async (request) => {
      const version = requestedVersion(dataset, request.headers);
      if (!version.ok) return versionReply(version.error, batchTitle);
      const parsed = parseBody(request);
      if (!parsed.ok) return problemReply(parsed.problem, batchTitle);
      const records = batchRecords(parsed.value, limits.maxBatchRecords);
      if (!Array.isArray(records)) {
        return reply(422, { message: validationErrorMessage(1, batchTitle), detail: inBody([records]) });
      }
      const now = clock();
      const messages: KafkaMessage[] = [];
      const results: Record<string, unknown>[] = [];
      const allErrors: ReturnType<typeof inBody> = [];
      let batchBytes = 0;
      records.forEach((input, index) => {
        const result = encode(version.version, input, request, now);
        if (result.ok) {
          messages.push(result.message);
          batchBytes += result.bytes;
          results.push({ index, status: 'accepted', [definition.idField]: result.id });
        } else {
          const detail = inBody(result.errors, ['records', index]);
          allErrors.push(...detail);
          results.push({
            index,
            status: 'rejected',
            message: validationErrorMessage(detail.length, definition.title),
            detail,
          });
        }
      });
      const accepted = messages.length;
      const rejectedCount = records.length - accepted;
      // All of a batch may land in one partition, i.e. in one record batch the broker weighs whole.
      if (batchBytes > maxMessageBytes) {
        return {
          ...reply(413, {
            detail: `${tooLargeForKafka('The batch', batchBytes, maxMessageBytes)}: send fewer records per request`,
          }),
          outcome: rejected(definition.name, records.length),
        };
      }
      if (accepted === 0) {
        return {
          ...reply(422, {
            message: validationErrorMessage(allErrors.length, batchTitle),
            detail: allErrors,
            results,
          }),
          outcome: rejected(definition.name, rejectedCount),
        };
      }
      const sent = await produce(dataset, messages);
      if (!sent.ok) {
        return {
          ...unavailable(),
          outcome: {
            dataset: definition.name,
            accepted: 0,
            rejected: rejectedCount,
            produceError: sent.produceError,
          },
        };
      }
      return {
        ...reply(rejectedCount === 0 ? 200 : 207, {
          message: `${accepted} of ${records.length} records ingested`,
          accepted,
          rejected: rejectedCount,
          results,
        }),
        outcome: { dataset: definition.name, accepted, rejected: rejectedCount, produceMs: sent.produceMs },
      };
    };
  }

  /**
   * A produce's outcome is the freshest news of Kafka: /health reports it until a later produce or, once
   * the cache has expired, a ping says otherwise (a ping alone can succeed while produces fail).
   */
  function reportHealth(ok: boolean) {
    health = { at: clock(), ok: Promise.resolve(ok) };
  }

  async function healthCheck(): Promise<IngestResult> {
    const now = clock();
    if (!health || now - health.at >= healthCacheMs) health = { at: now, ok: producer.ping() };
    const ok = await health.ok;
    return ok
      ? reply(200, { status: 'healthy', kafka_status: 'connected' })
      : reply(503, { status: 'degraded', kafka_status: 'disconnected' });
  }

  let document: { info: { title: string } } | undefined;
  const openapi = () =>
    (document ??= openApiDocument(
      registry.datasets.map((d) => d.definition),
      limits,
    ) as { info: { title: string } });

  /** A docs page; the document's URL is relative, so it resolves under API Gateway's stage path too. */
  const docsPage =
    (render: (page: DocsPage) => string): RouteHandler =>
    async (request) => ({
      response: {
        statusCode: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: render({
          title: openapi().info.title,
          openapiUrl: `${request.path.endsWith('/') ? '../' : ''}${OPENAPI_ROUTE.slice(1)}`,
          assetsUrl: docsAssetsUrl,
        }),
      },
    });

  const routes = new Map<string, Map<string, RouteHandler>>([
    ['/', new Map([['GET', async () => reply(200, { message: WELCOME_MESSAGE })]])],
    [HEALTH_ROUTE, new Map([['GET', healthCheck]])],
    [
      OPENAPI_ROUTE,
      new Map([
        [
          'GET',
          async () => {
            openapiBody ??= JSON.stringify(openapi());
            return { response: { statusCode: 200, headers: { ...JSON_HEADERS }, body: openapiBody } };
          },
        ],
      ]),
    ],
    [DOCS_ROUTE, new Map([['GET', docsPage(swaggerUiHtml)]])],
    [REDOC_ROUTE, new Map([['GET', docsPage(redocHtml)]])],
  ]);
  for (const dataset of registry.datasets) {
    routes.set(dataset.definition.route, new Map([['POST', single(dataset)]]));
    routes.set(batchRouteOf(dataset.definition), new Map([['POST', batch(dataset)]]));
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

function rejected(dataset: string, count: number): IngestOutcome {
  return { dataset, accepted: 0, rejected: count };
}

/** The records of a batch body `{"records": [...]}`, or the one error that makes it no batch at all. */
function batchRecords(body: unknown, maxRecords: number): unknown[] | FieldError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { loc: [], msg: 'Input should be an object with a "records" list', type: 'dict_type' };
  }
  const records = (body as { records?: unknown }).records;
  if (records === undefined) return { loc: ['records'], msg: 'Field required', type: 'missing' };
  if (!Array.isArray(records))
    return { loc: ['records'], msg: 'Input should be a valid list', type: 'list_type' };
  if (records.length === 0) {
    return {
      loc: ['records'],
      msg: 'List should have at least 1 item after validation, not 0',
      type: 'too_short',
    };
  }
  if (records.length > maxRecords) {
    return {
      loc: ['records'],
      msg: `List should have at most ${maxRecords} items after validation, not ${records.length}`,
      type: 'too_long',
    };
  }
  return records;
}
