import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PlatformMetrics } from '../../../../localstack/runtime/api/metrics';
import { type LocalApi, type ProxyHandler, startLocalApi } from '../../../../localstack/runtime/api/server';

/** The adapter against a tiny handler that echoes what it received; the e2e test runs the real one. */
describe('local API adapter', () => {
  let api: LocalApi;
  let metrics: PlatformMetrics;
  const seen: APIGatewayProxyEvent[] = [];
  let behaviour: 'echo' | 'throw' | 'binary' = 'echo';

  const handler: ProxyHandler = async (event, context) => {
    seen.push(event);
    if (behaviour === 'throw') throw new Error('boom');
    if (behaviour === 'binary') {
      return { statusCode: 201, isBase64Encoded: true, body: Buffer.from([0, 1, 2, 255]).toString('base64') };
    }
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'X-Single': 'one' },
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
      body: JSON.stringify({ path: event.path, remaining: context.getRemainingTimeInMillis() > 0 }),
    };
  };

  beforeAll(async () => {
    metrics = new PlatformMetrics();
    api = await startLocalApi({
      handler,
      metrics,
      port: 0,
      timeoutMs: 5_000,
      routeLabel: (path) => (path === '/ingest-thing' ? path : 'other'),
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    seen.length = 0;
    behaviour = 'echo';
  });

  it('builds a REST proxy event with path, headers, multi-value headers, query and request id', async () => {
    const response = await fetch(`${api.url}/ingest-thing/?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' },
      body: '{"k": "é"}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ path: '/ingest-thing/', remaining: true });
    expect(response.headers.get('x-single')).toBe('one');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);

    const event = seen[0] as APIGatewayProxyEvent;
    expect(event.httpMethod).toBe('POST');
    expect(event.path).toBe('/ingest-thing/');
    expect(event.resource).toBe('/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'ingest-thing/' });
    expect(event.body).toBe('{"k": "é"}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers['X-Custom']).toBe('v');
    expect(event.multiValueHeaders['X-Custom']).toEqual(['v']);
    expect(event.queryStringParameters).toEqual({ a: '2', b: 'x' });
    expect(event.multiValueQueryStringParameters).toEqual({ a: ['1', '2'], b: ['x'] });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.httpMethod).toBe('POST');
    expect(event.requestContext.path).toBe('/local/ingest-thing/');
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it('gives every request its own request id and a null body and query when there are none', async () => {
    await fetch(`${api.url}/`);
    await fetch(`${api.url}/`);
    const [a, b] = seen as [APIGatewayProxyEvent, APIGatewayProxyEvent];
    expect(a.requestContext.requestId).not.toBe(b.requestContext.requestId);
    expect(a.body).toBeNull();
    expect(a.queryStringParameters).toBeNull();
    expect(a.resource).toBe('/');
    expect(a.pathParameters).toBeNull();
  });

  it('base64-encodes binary request bodies and decodes base64 results', async () => {
    behaviour = 'binary';
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const response = await fetch(`${api.url}/upload`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
    const event = seen[0] as APIGatewayProxyEvent;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, 'base64')).toEqual(bytes);
  });

  it('answers 502 like API Gateway when the handler throws', async () => {
    behaviour = 'throw';
    const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
    const response = await fetch(`${api.url}/ingest-thing`, { method: 'POST', body: '{}' });
    spy.mockRestore();
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it('serves Prometheus metrics with request counts by route and status and a latency histogram', async () => {
    await fetch(`${api.url}/ingest-thing`, { method: 'POST', body: '{}' });
    await fetch(`${api.url}/somewhere-else`);
    const response = await fetch(`${api.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(
      /lakehouse_api_requests_total\{method="POST",route="\/ingest-thing",status="200"\} \d+/,
    );
    expect(text).toMatch(/lakehouse_api_requests_total\{method="GET",route="other",status="200"\} \d+/);
    expect(text).toMatch(/lakehouse_api_request_duration_seconds_bucket\{le="0.1",route="\/ingest-thing"\}/);
    expect(seen.some((e) => e.path === '/metrics')).toBe(false);
  });
});
