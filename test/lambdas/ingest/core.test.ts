import {
  createRegistry,
  DATASETS,
  financialTransactions,
  insuranceClaims,
  iotSensorEvents,
} from '../../../schemas';
import { batchRouteOf } from '../../../schemas/api/openapi';
import { coreWith, exampleRecord, FIXED_NOW, get, LIMITS, memoryProducer, post } from './support';

const txn = exampleRecord(financialTransactions);
const claim = exampleRecord(insuranceClaims);
const json = (body: string) => JSON.parse(body);
/** The examples in canonical form: what Kafka carries (ISO-8601 UTC with microseconds, nulls explicit). */
const canonicalTxn = { ...txn, timestamp: '2024-01-15T10:30:00.123456Z' };
const canonicalClaim = {
  ...claim,
  timestamp: '2024-01-15T10:30:00.123456Z',
  incident_date: '2024-01-10T00:00:00.000000Z',
};

describe('routes and messages of README.md#the-api', () => {
  const { core, memory } = coreWith();

  test('GET / welcomes', async () => {
    const { response } = await core(get('/'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(json(response.body)).toEqual({ message: 'Welcome to Financial/Insurance Data Ingestor API!' });
  });

  test.each([
    [
      '/ingest-financial-transaction',
      txn,
      { message: 'Financial transaction ingested successfully', transaction_id: txn.transaction_id },
    ],
    [
      '/ingest-financial-transaction/',
      txn,
      { message: 'Financial transaction ingested successfully', transaction_id: txn.transaction_id },
    ],
    [
      '/ingest-insurance-claim',
      claim,
      { message: 'Insurance claim ingested successfully', claim_id: claim.claim_id },
    ],
    [
      '/ingest-insurance-claim/',
      claim,
      { message: 'Insurance claim ingested successfully', claim_id: claim.claim_id },
    ],
  ])('POST %s → 200', async (path, record, expected) => {
    const { response, outcome } = await core(post(path, record));
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toEqual(expected);
    expect(outcome).toMatchObject({ accepted: 1, rejected: 0 });
  });

  test('the Kafka message: topic raw_<dataset>, key = id, value = the record, metadata in headers', async () => {
    await core({ ...post('/ingest-insurance-claim', claim), requestId: 'apigw-req-42' });
    const sent = memory.sends.at(-1);
    expect(sent?.topic).toBe('raw_insurance_claims');
    expect(sent?.messages).toHaveLength(1);
    const message = sent?.messages[0];
    expect(message?.key).toBe(claim.claim_id);
    expect(message?.headers).toEqual({
      'ingest-time': new Date(FIXED_NOW).toISOString(),
      'request-id': 'apigw-req-42',
      'schema-version': '1',
      'content-type': 'application/json',
      dataset: 'insurance_claims',
    });
    expect(json(message?.value ?? '')).toEqual(canonicalClaim);
  });

  test('unknown fields are accepted and ignored: they never reach Kafka', async () => {
    const { response } = await core(
      post('/ingest-financial-transaction', { ...txn, note: 'hi', __proto__x: 1 }),
    );
    expect(response.statusCode).toBe(200);
    expect(json(memory.sends.at(-1)?.messages[0]?.value ?? '')).toEqual(canonicalTxn);
  });

  test('GET /openapi.json serves the generated document', async () => {
    const { response } = await core(get('/openapi.json'));
    expect(response.statusCode).toBe(200);
    expect(Object.keys(json(response.body).paths).sort()).toEqual(
      [
        '/',
        '/health',
        '/openapi.json',
        '/ingest-financial-transaction',
        '/ingest-financial-transaction/batch',
        '/ingest-insurance-claim',
        '/ingest-insurance-claim/batch',
        '/ingest-iot-sensor-event',
        '/ingest-iot-sensor-event/batch',
      ].sort(),
    );
  });
});

describe('health', () => {
  test('200 healthy when Kafka answers, 503 degraded when not; answers are cached', async () => {
    let up = true;
    let now = 0;
    const memory = memoryProducer({ up: () => up });
    const { core } = coreWith({ producer: memory.producer, clock: () => now });
    let { response } = await core(get('/health'));
    expect([response.statusCode, json(response.body)]).toEqual([
      200,
      { status: 'healthy', kafka_status: 'connected' },
    ]);
    up = false;
    ({ response } = await core(get('/health/')));
    expect(response.statusCode).toBe(200); // cached for 5 s
    expect(memory.pings()).toBe(1);
    now = 5_000;
    ({ response } = await core(get('/health')));
    expect([response.statusCode, json(response.body)]).toEqual([
      503,
      { status: 'degraded', kafka_status: 'disconnected' },
    ]);
    expect(memory.pings()).toBe(2);
  });
});

describe('the proper 4xx', () => {
  const { core, memory } = coreWith({ limits: { ...LIMITS, maxBodyBytes: 1_000 } });
  const route = '/ingest-financial-transaction';

  test.each([
    ['{"transaction_id": "t-1", ', 26],
    ['{"transaction_id": "t-1",}', 25],
    ["{'transaction_id': 't-1'}", 1],
    // V8 names no position for an unexpected token; FastAPI's would be 11.
    ['{"amount": NaN}', expect.any(Number)],
    ['   ', 3],
  ])('malformed JSON %j → 422 json_invalid, as FastAPI answers', async (text, position) => {
    const { response, outcome } = await core(post(route, text));
    expect(response.statusCode).toBe(422);
    expect(json(response.body)).toEqual({
      message: '1 validation error for FinancialTransaction',
      detail: [
        {
          loc: ['body', position],
          msg: 'JSON decode error',
          type: 'json_invalid',
          ctx: { error: expect.any(String) },
        },
      ],
    });
    expect(outcome).toMatchObject({ dataset: 'financial_transactions', rejected: 1 });
  });

  test.each([[''], ['null']])('empty body %j → 422 missing body', async (body) => {
    const { response } = await core(post(route, body));
    expect(response.statusCode).toBe(422);
    expect(json(response.body)).toEqual({
      message: '1 validation error for FinancialTransaction',
      detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }],
    });
  });

  test.each([['[]'], ['"txn"'], ['42'], ['true']])('JSON that is no object (%s) → 422', async (body) => {
    const { response } = await core(post(route, body));
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('validation error');
    expect(json(response.body).detail).toEqual([
      { loc: ['body'], msg: expect.any(String), type: 'model_attributes_type' },
    ]);
  });

  test.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x'],
    ['application/json; charset=latin1'],
    ['application/jsonx'],
  ])('Content-Type %s → 415', async (contentType) => {
    const { response } = await core(post(route, txn, { 'content-type': contentType }));
    expect(response.statusCode).toBe(415);
    expect(typeof json(response.body).detail).toBe('string');
  });

  test.each([['application/json'], ['Application/JSON; charset=UTF-8'], ['application/vnd.api+json'], ['']])(
    'Content-Type %j is accepted',
    async (contentType) => {
      expect((await core(post(route, txn, { 'content-type': contentType }))).response.statusCode).toBe(200);
    },
  );

  test('no Content-Type at all is read as JSON', async () => {
    const request = post(route, txn);
    expect((await core({ ...request, headers: {} })).response.statusCode).toBe(200);
  });

  test('a body over MAX_BODY_BYTES → 413 (counted in UTF-8 bytes, before or after base64)', async () => {
    const padded = (n: number) => JSON.stringify({ ...txn, category: 'é'.repeat(n) });
    const fits = padded(Math.floor((1_000 - padded(0).length) / 2));
    expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(1_000);
    expect((await core(post(route, fits))).response.statusCode).toBe(200);
    const over = padded(Math.floor((1_000 - padded(0).length) / 2) + 1);
    expect((await core(post(route, over))).response.statusCode).toBe(413);
    const base64 = { ...post(route, Buffer.from(over).toString('base64')), isBase64Encoded: true };
    expect((await core(base64)).response.statusCode).toBe(413);
  });

  test('base64 bodies (API Gateway binary media types) are decoded; bad UTF-8 → 400', async () => {
    const ok = { ...post(route, Buffer.from(JSON.stringify(txn)).toString('base64')), isBase64Encoded: true };
    expect((await core(ok)).response.statusCode).toBe(200);
    const bad = {
      ...post(route, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64')),
      isBase64Encoded: true,
    };
    const { response } = await core(bad);
    expect(response.statusCode).toBe(400);
    expect(json(response.body).detail).toBe('There was an error parsing the body: it is not valid UTF-8');
  });

  test.each([
    ['GET', '/nope'],
    ['POST', '/ingest-crypto-trade'],
    ['GET', '/ingest-financial-transaction/batch/x'],
    ['GET', '/health/x'],
  ])('%s %s → 404', async (method, path) => {
    const { response } = await core({ ...get(path), method });
    expect([response.statusCode, json(response.body)]).toEqual([404, { detail: 'Not Found' }]);
  });

  test.each([
    ['GET', route, 'POST'],
    ['PUT', `${route}/`, 'POST'],
    ['DELETE', batchRouteOf(financialTransactions), 'POST'],
    ['POST', '/health', 'GET'],
    ['POST', '/', 'GET'],
    ['PATCH', '/openapi.json', 'GET'],
  ])('%s %s → 405 with Allow: %s', async (method, path, allow) => {
    const { response } = await core({ ...post(path, txn), method });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(json(response.body)).toEqual({ detail: 'Method Not Allowed' });
  });

  test('methods are case-insensitive', async () => {
    expect((await core({ ...get('/'), method: 'get' })).response.statusCode).toBe(200);
  });

  test('no 4xx reached Kafka', () => {
    expect(memory.sends.every((s) => s.messages.every((m) => m.key === txn.transaction_id))).toBe(true);
  });
});

describe('Kafka unavailable', () => {
  test('→ 503 with Retry-After, and the failure in the outcome for logs and metrics', async () => {
    const { core } = coreWith({ producer: memoryProducer({ up: () => false }).producer });
    const { response, outcome } = await core(post('/ingest-financial-transaction', txn));
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(json(response.body).detail).toMatch(/Kafka is unavailable/);
    expect(outcome?.produceError).toBeInstanceOf(Error);
    const batch = await core(post(batchRouteOf(financialTransactions), { records: [txn] }));
    expect(batch.response.statusCode).toBe(503);
  });
});

describe('batch routes', () => {
  const route = batchRouteOf(financialTransactions);

  test('all valid → 200, one send with every record, results in order', async () => {
    const { core, memory } = coreWith();
    const records = Array.from({ length: 500 }, (_, i) => ({ ...txn, transaction_id: `t-${i}` }));
    const { response, outcome } = await core(post(route, { records }));
    expect(response.statusCode).toBe(200);
    const body = json(response.body);
    expect(body).toMatchObject({ message: '500 of 500 records ingested', accepted: 500, rejected: 0 });
    expect(body.results[499]).toEqual({ index: 499, status: 'accepted', transaction_id: 't-499' });
    expect(memory.sends).toHaveLength(1);
    expect(memory.sends[0]?.messages.map((m) => m.key)).toEqual(records.map((r) => r.transaction_id));
    expect(outcome).toMatchObject({ dataset: 'financial_transactions', accepted: 500, rejected: 0 });
  });

  test('some invalid → 207: valid ones produced, invalid ones reported with their index', async () => {
    const { core, memory } = coreWith();
    const records = [
      txn,
      { ...txn, transaction_id: 't-2', amount: 'x' },
      { ...txn, transaction_id: 't-3' },
      'nope',
    ];
    const { response, outcome } = await core(post(`${route}/`, { records }));
    expect(response.statusCode).toBe(207);
    expect(json(response.body)).toEqual({
      message: '2 of 4 records ingested',
      accepted: 2,
      rejected: 2,
      results: [
        { index: 0, status: 'accepted', transaction_id: txn.transaction_id },
        {
          index: 1,
          status: 'rejected',
          message: '1 validation error for FinancialTransaction',
          detail: [{ loc: ['body', 'records', 1, 'amount'], msg: expect.any(String), type: 'float_parsing' }],
        },
        { index: 2, status: 'accepted', transaction_id: 't-3' },
        {
          index: 3,
          status: 'rejected',
          message: '1 validation error for FinancialTransaction',
          detail: [{ loc: ['body', 'records', 3], msg: expect.any(String), type: 'model_attributes_type' }],
        },
      ],
    });
    expect(memory.sends).toHaveLength(1);
    expect(memory.sends[0]?.messages.map((m) => m.key)).toEqual([txn.transaction_id, 't-3']);
    expect(outcome).toMatchObject({ accepted: 2, rejected: 2 });
  });

  test('nothing valid → 422 with every problem, nothing sent', async () => {
    const { core, memory } = coreWith();
    const { response } = await core(post(route, { records: [{}, { ...txn, currency: 1 }] }));
    expect(response.statusCode).toBe(422);
    const body = json(response.body);
    // six required fields missing in the first record, one wrong type in the second
    expect(body.message).toBe('7 validation errors for FinancialTransactionBatch');
    expect(body.detail).toContainEqual({
      loc: ['body', 'records', 1, 'currency'],
      msg: expect.any(String),
      type: 'string_type',
    });
    expect(memory.sends).toHaveLength(0);
  });

  test.each([
    [[txn], ['body'], 'dict_type'],
    [{}, ['body', 'records'], 'missing'],
    [{ records: txn }, ['body', 'records'], 'list_type'],
    [{ records: [] }, ['body', 'records'], 'too_short'],
    [{ records: Array.from({ length: 501 }, () => txn) }, ['body', 'records'], 'too_long'],
  ])('not a batch: %#', async (body, loc, type) => {
    const { core } = coreWith();
    const { response } = await core(post(route, body));
    expect(response.statusCode).toBe(422);
    expect(json(response.body)).toEqual({
      message: '1 validation error for FinancialTransactionBatch',
      detail: [{ loc, msg: expect.any(String), type }],
    });
  });
});

describe('a dataset gets its routes by registration alone', () => {
  const registry = createRegistry(DATASETS);
  const { core, memory } = coreWith({ registry });
  const event = exampleRecord(iotSensorEvents);

  test('POST /ingest-iot-sensor-event and its batch route', async () => {
    const single = await core(post('/ingest-iot-sensor-event', event));
    expect([single.response.statusCode, json(single.response.body)]).toEqual([
      200,
      { message: 'IoT sensor event ingested successfully', event_id: event.event_id },
    ]);
    const batch = await core(
      post('/ingest-iot-sensor-event/batch', { records: [event, { ...event, value: 'hot' }] }),
    );
    expect(batch.response.statusCode).toBe(207);
    expect(memory.sends.map((s) => s.topic)).toEqual(['raw_iot_sensor_events', 'raw_iot_sensor_events']);
    const doc = json((await core(get('/openapi.json'))).response.body);
    expect(doc.paths['/ingest-iot-sensor-event']).toBeDefined();
    expect(doc.components.schemas.IotSensorEvent.required).toContain('event_id');
  });

  test('a registry without it does not know it', async () => {
    const { core: withoutIot } = coreWith({
      registry: createRegistry([financialTransactions, insuranceClaims]),
    });
    expect((await withoutIot(post('/ingest-iot-sensor-event', event))).response.statusCode).toBe(404);
  });
});

describe('limits give a 4xx, never a 503 (issue 10)', () => {
  const route = '/ingest-financial-transaction';
  const batchRoute = batchRouteOf(financialTransactions);

  test('a 900 KB transaction_id → 413: key and value together exceed what Kafka takes, nothing is sent', async () => {
    const { core, memory } = coreWith();
    const { response, outcome } = await core(post(route, { ...txn, transaction_id: 'x'.repeat(900_000) }));
    expect(response.statusCode).toBe(413);
    expect(json(response.body).detail).toMatch(
      /^The record is 18\d{5} bytes once encoded for Kafka \(UTF-8\); the limit is 1000000 bytes$/,
    );
    expect(outcome).toMatchObject({ accepted: 0, rejected: 1 });
    expect(memory.sends).toHaveLength(0);
  });

  test('budgets count UTF-8 bytes: 340,000 euro signs are 1.02 MB, not 340,000 characters', async () => {
    const { core, memory } = coreWith();
    const body = JSON.stringify({ ...txn, category: '€'.repeat(340_000) });
    expect(body.length).toBeLessThan(1_000_000);
    expect((await core(post(route, body))).response.statusCode).toBe(413);
    const fits = JSON.stringify({ ...txn, category: '€'.repeat(330_000) });
    expect((await core(post(route, fits))).response.statusCode).toBe(200);
    expect(memory.sends).toHaveLength(1);
  });

  test('a batch whose records together exceed the limit → 413; a record alone too large is rejected by index', async () => {
    const { core, memory } = coreWith({ limits: { ...LIMITS, maxMessageBytes: 10_000 } });
    const record = (id: string, n: number) => ({ ...txn, transaction_id: id, category: 'ü'.repeat(n) });
    const together = await core(
      post(batchRoute, { records: [record('a', 2_000), record('b', 2_000), record('c', 2_000)] }),
    );
    expect(together.response.statusCode).toBe(413);
    expect(json(together.response.body).detail).toMatch(
      /^The batch is \d+ bytes .*: send fewer records per request$/,
    );
    const oneTooLarge = await core(post(batchRoute, { records: [record('a', 100), record('b', 6_000)] }));
    expect(oneTooLarge.response.statusCode).toBe(207);
    expect(json(oneTooLarge.response.body).results[1].detail).toEqual([
      {
        loc: ['body', 'records', 1],
        msg: expect.stringMatching(/limit is 10000 bytes/),
        type: 'message_too_large',
      },
    ]);
    expect(memory.sends.map((s) => s.messages.map((m) => m.key))).toEqual([['a']]);
  });

  test.each([
    ['an escaped lone high surrogate', '"\\ud800"'],
    ['an escaped lone low surrogate', '"x\\udc00"'],
    ['a raw lone surrogate in the decoded body', '"\ud800"'],
  ])('an id with %s → 422 string_unicode (it would reach Kafka as U+FFFD)', async (_what, id) => {
    const { core, memory } = coreWith();
    const body = JSON.stringify({ ...txn, transaction_id: 'ID' }).replace('"ID"', id);
    const { response } = await core(post(route, body));
    expect(response.statusCode).toBe(422);
    expect(json(response.body).detail).toEqual([
      { loc: ['body', 'transaction_id'], msg: expect.any(String), type: 'string_unicode' },
    ]);
    expect(memory.sends).toHaveLength(0);
  });

  test('two different ids never collapse into one key: no trimming, case folding or Unicode normalisation', async () => {
    const { core, memory } = coreWith();
    const ids = ['x', ' x', 'x ', 'X', '\u00e9', 'e\u0301', 'x\u0000', '😀', '\ufeffx'];
    for (const id of ids)
      expect((await core(post(route, { ...txn, transaction_id: id }))).response.statusCode).toBe(200);
    const keys = memory.sends.map((s) => s.messages[0]?.key ?? '');
    expect(keys).toEqual(ids);
    expect(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(ids.length);
  });

  test('100,000-deep nesting → 400 with the reason, never a crash; 900 levels in an unknown field are fine', async () => {
    const { core } = coreWith();
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const nested = JSON.stringify({ ...txn, extra: 'DEEP' });
    const { response } = await core(post(route, nested.replace('"DEEP"', deep(100_000))));
    expect(response.statusCode).toBe(400);
    expect(json(response.body).detail).toBe(
      'There was an error parsing the body: JSON nested deeper than 1000 levels',
    );
    expect((await core(post(route, deep(100_000)))).response.statusCode).toBe(400);
    expect((await core(post(route, nested.replace('"DEEP"', deep(900))))).response.statusCode).toBe(200);
    // Brackets inside strings are text, not nesting.
    expect((await core(post(route, { ...txn, category: '['.repeat(5_000) }))).response.statusCode).toBe(200);
  });
});
