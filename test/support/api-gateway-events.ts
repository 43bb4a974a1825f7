import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toProxyEvent } from '../../localstack/runtime/api/proxy-event';

/**
 * The one factory of API Gateway (REST, proxy integration 1.0) events for tests: the local API's own
 * translation (`toProxyEvent`), fed the headers a client reaching the deployed API through CloudFront sends.
 */
export interface ApiEventOptions {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** A value to send as JSON, or the body's text as sent. */
  readonly body?: unknown;
  /** @default 'application/json' when there is a body */
  readonly contentType?: string;
  /** Deliver the body base64-encoded, as API Gateway does for binary media types. @default false */
  readonly base64?: boolean;
  /** @default 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef' */
  readonly requestId?: string;
}

const CLIENT_HEADERS = [
  ['Accept', '*/*'],
  ['Accept-Encoding', 'gzip, deflate'],
  ['CloudFront-Forwarded-Proto', 'https'],
  ['CloudFront-Viewer-Country', 'IE'],
  ['Host', 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com'],
  ['User-Agent', 'python-requests/2.31.0'],
  ['Via', '1.1 08f323deadbeefa7af34d5feb414ce27.cloudfront.net (CloudFront)'],
  ['X-Amzn-Trace-Id', 'Root=1-6560a1b2-0123456789abcdef01234567'],
  ['X-Forwarded-For', '203.0.113.7, 130.176.1.10'],
  ['X-Forwarded-Port', '443'],
  ['X-Forwarded-Proto', 'https'],
  ['x-api-key', 'EXAMPLEapiKEY0123456789abcdefghij'],
] as const;

export function apiGatewayEvent(options: ApiEventOptions): APIGatewayProxyEvent {
  const text =
    options.body === undefined
      ? ''
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const body = Buffer.from(text);
  const rawHeaders: string[] = CLIENT_HEADERS.flat();
  if (text !== '') {
    rawHeaders.push(
      'Content-Type',
      options.contentType ?? 'application/json',
      'Content-Length',
      String(body.length),
    );
  }
  const event = toProxyEvent(
    { method: options.method, url: options.path, rawHeaders, body, sourceIp: '203.0.113.7' },
    {
      requestId: options.requestId ?? 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      stage: 'prod',
      accountId: '111111111111',
      apiId: 'a1b2c3d4e5',
      now: new Date('2026-11-22T00:41:56Z'),
    },
  );
  return options.base64 && text !== ''
    ? { ...event, body: body.toString('base64'), isBase64Encoded: true }
    : event;
}
