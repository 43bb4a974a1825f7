import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/**
 * Translation between plain HTTP and the API Gateway REST API's Lambda proxy integration (payload 1.0),
 * the way `sam local start-api` does it, so the ingest handler runs locally exactly as it is deployed.
 */

/** What the HTTP server hands over: the request as it arrived on the wire. */
export interface HttpRequest {
  readonly method: string;
  /** The request target, path plus query string, e.g. `/ingest-insurance-claim?x=1`. */
  readonly url: string;
  /** Node's `rawHeaders`: alternating names (as sent) and values. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface ProxyEventOptions {
  readonly requestId: string;
  readonly stage: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly now: Date;
}

/**
 * API Gateway passes bodies of these media types as text; everything else counts as binary and reaches the
 * Lambda base64-encoded (the REST API's binaryMediaTypes behaviour for `*\/*`).
 */
const TEXT_MEDIA = /^(text\/|application\/(json|.*\+json|xml|.*\+xml|x-www-form-urlencoded|javascript))/i;

export function isTextBody(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === '' || TEXT_MEDIA.test(contentType.trim());
}

/** The `{proxy+}` catch-all resource, which the REST API also uses to route every path to the handler. */
export const PROXY_RESOURCE = '/{proxy+}';

export function toProxyEvent(req: HttpRequest, options: ProxyEventOptions): APIGatewayProxyEvent {
  const url = new URL(req.url, 'http://localhost');
  const path = decodeURIComponent(url.pathname);

  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }

  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    queryStringParameters[name] = value;
    multiValueQueryStringParameters[name] = [...(multiValueQueryStringParameters[name] ?? []), value];
  }
  const hasQuery = url.searchParams.size > 0;

  const contentType = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const binary = !isTextBody(contentType);
  const body = req.body.length === 0 ? null : req.body.toString(binary ? 'base64' : 'utf8');
  const isRoot = path === '/';
  const resource = isRoot ? '/' : PROXY_RESOURCE;
  const userAgent =
    Object.entries(headers).find(([name]) => name.toLowerCase() === 'user-agent')?.[1] ?? null;

  return {
    resource,
    path,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: isRoot ? null : { proxy: path.slice(1) },
    stageVariables: null,
    body,
    isBase64Encoded: binary && body !== null,
    requestContext: {
      accountId: options.accountId,
      apiId: options.apiId,
      authorizer: undefined as never,
      protocol: 'HTTP/1.1',
      httpMethod: req.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${options.stage}${path}`,
      stage: options.stage,
      requestId: options.requestId,
      requestTimeEpoch: options.now.getTime(),
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

/** A Lambda context for one invocation; the remaining time counts down from the configured timeout. */
export function lambdaContext(functionName: string, timeoutMs: number, awsRequestId: string): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = (): never => {
    throw new Error('The callback API is not supported; return a promise from the handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

export interface HttpResponse {
  readonly status: number;
  /** Header name to values; multi-value headers from the result are merged with the single ones. */
  readonly headers: Record<string, string[]>;
  readonly body: Buffer;
}

export function fromProxyResult(result: APIGatewayProxyResult): HttpResponse {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = [String(value)];
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = [...(headers[name] ?? []), ...values.map(String)];
  }
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  return { status: result.statusCode, headers, body };
}

/** What API Gateway answers when the Lambda integration fails (error thrown, malformed result, timeout). */
export const BAD_GATEWAY: HttpResponse = {
  status: 502,
  headers: { 'Content-Type': ['application/json'] },
  body: Buffer.from('{"message": "Internal server error"}'),
};
