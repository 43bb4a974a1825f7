/**
 * The HTTP API contract, derived from the dataset registry: routes, messages and the OpenAPI 3.1 document
 * that `GET /openapi.json` serves. The ingest core builds its routes from the same functions, so the
 * document and the behaviour cannot drift apart.
 */
import type { JsonSchema } from '../json-schema';
import { recordJsonSchema } from '../json-schema';
import type { DatasetDefinition } from '../types';
import { SCHEMA_VERSION_HEADER } from '../versions';

export const WELCOME_MESSAGE = 'Welcome to Financial/Insurance Data Ingestor API!';
export const HEALTH_ROUTE = '/health';
export const OPENAPI_ROUTE = '/openapi.json';
/** Swagger UI and ReDoc pages over OPENAPI_ROUTE; like FastAPI's, not listed in the document itself. */
export const DOCS_ROUTE = '/docs';
export const REDOC_ROUTE = '/redoc';

/** Many records per request: the single-record route plus `/batch`, e.g. /ingest-financial-transaction/batch. */
export function batchRouteOf(dataset: Pick<DatasetDefinition, 'route'>): string {
  return `${dataset.route}/batch`;
}

/** The 200 message of the single-record route (README.md#the-api), e.g. "Financial transaction ingested successfully". */
export function acceptedMessage(dataset: Pick<DatasetDefinition, 'label'>): string {
  return `${dataset.label} ingested successfully`;
}

/** The pydantic-style summary line of a 422, e.g. "1 validation error for FinancialTransaction". */
export function validationErrorMessage(count: number, title: string): string {
  return `${count} validation error${count === 1 ? '' : 's'} for ${title}`;
}

export interface ApiDocumentOptions {
  readonly maxBodyBytes: number;
  readonly maxBatchRecords: number;
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (description: string, schema: JsonSchema) => ({ description, content: json(schema) });

const errorResponses = (maxBodyBytes: number) => ({
  '400': response('The body is not valid JSON (or not UTF-8).', ref('HTTPError')),
  '413': response(`The body is larger than ${maxBodyBytes} bytes.`, ref('HTTPError')),
  '415': response('Content-Type is neither absent nor application/json (UTF-8).', ref('HTTPError')),
  '503': response('Kafka did not acknowledge in time; nothing was ingested, retry.', ref('HTTPError')),
});

/** The optional header that names the schema version of the records sent (./versions.ts). */
const schemaVersionParameter = (dataset: DatasetDefinition) => ({
  name: SCHEMA_VERSION_HEADER,
  in: 'header',
  required: false,
  description:
    `Schema version the records follow (1..${dataset.schemaVersion}); absent means the latest. ` +
    'A field added in a later version is ignored, as every unknown field is.',
  schema: { type: 'integer', minimum: 1, maximum: dataset.schemaVersion, default: dataset.schemaVersion },
});

/** JSON Schema of a record as OpenAPI 3.1 embeds it (2020-12 dialect; drop the standalone-file keys). */
function componentSchema(dataset: DatasetDefinition): JsonSchema {
  const { $schema: _schema, $id: _id, ...schema } = recordJsonSchema(dataset);
  return {
    ...schema,
    description: `${dataset.label} (schema version ${dataset.schemaVersion}). Fields not listed are ignored.`,
  };
}

/** The routes every deployment serves, whatever its datasets. */
const INFO_PATHS: Record<string, unknown> = {
  '/': {
    get: {
      operationId: 'root',
      summary: 'Welcome message',
      responses: { '200': response('Welcome', ref('Message')) },
    },
  },
  [HEALTH_ROUTE]: {
    get: {
      operationId: 'health',
      summary: 'Liveness and Kafka connectivity',
      responses: {
        '200': response('Kafka reachable', ref('Health')),
        '503': response('Kafka unreachable', ref('Health')),
      },
    },
  },
  [OPENAPI_ROUTE]: {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } },
    },
  },
};

/** The schemas every route shares. */
const SHARED_SCHEMAS: Record<string, JsonSchema> = {
  Message: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
  Health: {
    type: 'object',
    properties: {
      status: { enum: ['healthy', 'degraded'] },
      kafka_status: { enum: ['connected', 'disconnected'] },
    },
    required: ['status', 'kafka_status'],
  },
  HTTPError: {
    type: 'object',
    properties: {
      detail: { oneOf: [{ type: 'string' }, { type: 'array', items: ref('ValidationError') }] },
    },
    required: ['detail'],
  },
  ValidationError: {
    type: 'object',
    properties: {
      loc: { type: 'array', items: { type: ['string', 'integer'] } },
      msg: { type: 'string' },
      type: { type: 'string' },
    },
    required: ['loc', 'msg', 'type'],
  },
  HTTPValidationError: {
    type: 'object',
    description: 'One `detail` entry per problem; `message` reads "N validation error(s) for <Record>".',
    properties: { message: { type: 'string' }, detail: { type: 'array', items: ref('ValidationError') } },
    required: ['message', 'detail'],
  },
};

/** A dataset's record, accepted, batch and batch-result schemas. */
function datasetSchemas(d: DatasetDefinition, maxBatchRecords: number): Record<string, JsonSchema> {
  const idSchema = { type: 'string' };
  return {
    [d.title]: componentSchema(d),
    [`${d.title}Accepted`]: {
      type: 'object',
      properties: { message: { const: acceptedMessage(d) }, [d.idField]: idSchema },
      required: ['message', d.idField],
    },
    [`${d.title}Batch`]: {
      type: 'object',
      properties: { records: { type: 'array', items: ref(d.title), minItems: 1, maxItems: maxBatchRecords } },
      required: ['records'],
    },
    [`${d.title}BatchResult`]: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        accepted: { type: 'integer' },
        rejected: { type: 'integer' },
        results: {
          type: 'array',
          description: 'One entry per record, in request order.',
          items: {
            oneOf: [
              {
                type: 'object',
                properties: {
                  index: { type: 'integer' },
                  status: { const: 'accepted' },
                  [d.idField]: idSchema,
                },
                required: ['index', 'status', d.idField],
              },
              {
                type: 'object',
                properties: {
                  index: { type: 'integer' },
                  status: { const: 'rejected' },
                  message: { type: 'string' },
                  detail: { type: 'array', items: ref('ValidationError') },
                },
                required: ['index', 'status', 'message', 'detail'],
              },
            ],
          },
        },
      },
      required: ['message', 'accepted', 'rejected', 'results'],
    },
  };
}

/** A dataset's two routes: one record, and a batch. */
function datasetPaths(
  d: DatasetDefinition,
  { maxBodyBytes, maxBatchRecords }: ApiDocumentOptions,
): Record<string, unknown> {
  return {
    [d.route]: {
      post: {
        operationId: `ingest_${d.name}`,
        summary: `Ingest one ${d.label.toLowerCase()} (trailing slash accepted)`,
        security: [{ ApiKey: [] }],
        parameters: [schemaVersionParameter(d)],
        requestBody: { required: true, content: json(ref(d.title)) },
        responses: {
          '200': response(
            `Durable in Kafka (acknowledged by all in-sync replicas)`,
            ref(`${d.title}Accepted`),
          ),
          '422': response('Validation failed', ref('HTTPValidationError')),
          ...errorResponses(maxBodyBytes),
        },
      },
    },
    [batchRouteOf(d)]: {
      post: {
        operationId: `ingest_${d.name}_batch`,
        summary: `Ingest up to ${maxBatchRecords} ${d.name.replace(/_/g, ' ')} in one request (trailing slash accepted)`,
        description:
          'Valid records are produced to Kafka in one send and are durable when the response is 200 or 207; ' +
          'invalid ones are reported per record and not ingested. On 503 nothing is acknowledged: retry the ' +
          'whole batch (downstream deduplicates by record id).',
        security: [{ ApiKey: [] }],
        parameters: [schemaVersionParameter(d)],
        requestBody: { required: true, content: json(ref(`${d.title}Batch`)) },
        responses: {
          '200': response('Every record accepted', ref(`${d.title}BatchResult`)),
          '207': response('Some records accepted (durable), some rejected', ref(`${d.title}BatchResult`)),
          '422': response(
            'Nothing accepted: the body is not a batch, or every record is invalid',
            ref('HTTPValidationError'),
          ),
          ...errorResponses(maxBodyBytes),
        },
      },
    },
  };
}

export function openApiDocument(
  datasets: readonly DatasetDefinition[],
  options: ApiDocumentOptions,
): JsonSchema {
  const paths = { ...INFO_PATHS, ...Object.assign({}, ...datasets.map((d) => datasetPaths(d, options))) };
  const schemas = {
    ...SHARED_SCHEMAS,
    ...Object.assign({}, ...datasets.map((d) => datasetSchemas(d, options.maxBatchRecords))),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Data Ingestor API',
      version: '1.0.0',
      description:
        'Ingests business records into Kafka. Compatible with the FastAPI service it replaces: same routes, ' +
        'messages and 422 shape. Fields a record does not declare are ignored (not stored). Timestamps ' +
        'without an offset are UTC.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    },
  };
}
