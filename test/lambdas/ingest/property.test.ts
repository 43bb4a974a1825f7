/** No request — any method, path, headers or body — makes the API answer 5xx or throw. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { toHttpRequest } from '../../../lambdas/ingest/handler';
import { createRegistry, DATASETS } from '../../../schemas';
import { batchRouteOf } from '../../../schemas/api/openapi';
import { coreWith, exampleRecord, LIMITS } from './support';

const definitions = DATASETS;
const registry = createRegistry(definitions);
const routes = ['/', '/health', '/openapi.json', ...definitions.flatMap((d) => [d.route, batchRouteOf(d)])];

const path = fc.oneof(
  fc.constantFrom(...routes),
  fc.constantFrom(...routes).map((r) => `${r}/`),
  fc.string().map((s) => `/${s}`),
);
const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'post'),
  fc.string(),
);
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/problem+json',
      ';;',
      'application/json; charset="UTF-8"',
    ),
    fc.string(),
  ),
  { nil: undefined },
);

/** Records close to valid (each field possibly replaced by any JSON value), so validation paths are hit. */
const nearRecord = fc
  .tuple(
    fc.constantFrom(...definitions),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    fc.jsonValue(),
  )
  .chain(([d, extra, anyValue]) =>
    fc.subarray(Object.keys(d.fields)).map((mutated) => {
      const record: Record<string, unknown> = { ...exampleRecord(d), ...extra };
      for (const f of mutated) record[f] = anyValue;
      return record;
    }),
  );
const body = fc.oneof(
  fc.constant(null),
  fc.string(),
  fc.json(),
  nearRecord.map((r) => JSON.stringify(r)),
  fc
    .array(fc.oneof(nearRecord, fc.jsonValue()), { maxLength: 20 })
    .map((records) => JSON.stringify({ records })),
  fc.array(nearRecord, { maxLength: 5 }).map((records) => JSON.stringify(records)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

const event = fc.record({
  httpMethod: method,
  path,
  headers: fc.option(
    fc.tuple(contentType, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })).map(([ct, rest]) => ({
      ...rest,
      ...(ct === undefined ? {} : { 'Content-Type': ct }),
    })),
    { nil: null },
  ),
  body,
  isBase64Encoded: fc.boolean(),
});

const ACCEPTABLE = new Set([200, 207, 400, 404, 405, 413, 415, 422]);

test.each([
  ['Kafka up', true],
  ['Kafka down', false],
])(
  '%s: every request gets a JSON answer with a 2xx or 4xx (or 503 when Kafka is down)',
  async (_name, up) => {
    const { core } = coreWith({
      registry,
      limits: { ...LIMITS, maxBodyBytes: 2_000, maxBatchRecords: 10 },
      ...(up
        ? {}
        : {
            producer: {
              send: async () => Promise.reject(new Error('down')),
              ping: async () => false,
              close: async () => {},
            },
          }),
    });
    await fc.assert(
      fc.asyncProperty(event, async (e) => {
        const sentAsBase64 =
          e.isBase64Encoded && e.body !== null ? Buffer.from(e.body).toString('base64') : e.body;
        const request = toHttpRequest(
          {
            ...e,
            body: sentAsBase64,
            requestContext: { requestId: 'prop' },
          } as unknown as APIGatewayProxyEvent,
          { awsRequestId: 'prop' },
        );
        const { response } = await core(request);
        const ok = ACCEPTABLE.has(response.statusCode) || (!up && response.statusCode === 503);
        if (!ok) throw new Error(`status ${response.statusCode}: ${response.body}`);
        JSON.parse(response.body);
      }),
      { numRuns: 3_000 },
    );
  },
);
