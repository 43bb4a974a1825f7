/**
 * API Gateway (REST, proxy integration) adapter of the ingest core: turns the event into an HttpRequest,
 * builds the core once per cold start (registry validators compiled, producer connected on first use and
 * reused), and reports logs, metrics and traces through Powertools.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createRegistry } from '../../schemas';
import { INGEST_METRICS, METRIC_SERVICES } from '../shared/metric-names';
import { instrumentation } from '../shared/powertools';
import { readIngestConfig } from './config';
import { createIngestCore, type IngestCore } from './core';
import type { HttpRequest, IngestOutcome } from './http';
import type { KafkaProducer } from './kafka/producer';
import { ingestProducer } from './producer';

const { logger, metrics } = instrumentation(METRIC_SERVICES.ingest);

let core: IngestCore | undefined;
let producer: KafkaProducer | undefined;

function ingestCore(): IngestCore {
  if (!core) {
    const config = readIngestConfig();
    const created = ingestProducer(config.kafka, (msg) => logger.warn(msg));
    producer = created;
    core = createIngestCore({
      registry: createRegistry(),
      producer: created,
      clock: Date.now,
      limits: config.limits,
      docsAssetsUrl: config.docsAssetsUrl,
    });
  }
  return core;
}

/**
 * Disconnects the producer cached across invocations. Lambda never calls it (the sandbox is frozen);
 * hosts that run the handler in process (the local API, tests) call it when they stop.
 */
export async function closeHandler(): Promise<void> {
  const open = producer;
  core = undefined;
  producer = undefined;
  await open?.close();
}

/** API Gateway REST proxy event → the core's request. Header names are case-insensitive, so lower-case them. */
export function toHttpRequest(
  event: APIGatewayProxyEvent,
  context: Pick<Context, 'awsRequestId'>,
): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return {
    method: event.httpMethod,
    path: event.path,
    headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded === true,
    requestId: event.requestContext?.requestId ?? context.awsRequestId,
  };
}

function record(outcome: IngestOutcome): void {
  metrics.addDimension('dataset', outcome.dataset);
  metrics.addMetric(INGEST_METRICS.recordsAccepted, MetricUnit.Count, outcome.accepted);
  metrics.addMetric(INGEST_METRICS.recordsRejected, MetricUnit.Count, outcome.rejected);
  if (outcome.produceMs !== undefined) {
    metrics.addMetric(INGEST_METRICS.produceLatency, MetricUnit.Milliseconds, outcome.produceMs);
  }
  if (outcome.produceError !== undefined) {
    metrics.addMetric(INGEST_METRICS.kafkaUnavailable, MetricUnit.Count, 1);
    logger.error('Kafka did not acknowledge; answered 503', { error: outcome.produceError as Error });
  } else if (outcome.rejected > 0) {
    logger.info('Records rejected', { dataset: outcome.dataset, rejected: outcome.rejected });
  }
  metrics.publishStoredMetrics();
}

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const request = toHttpRequest(event, context);
  logger.addContext(context);
  logger.appendKeys({ api_request_id: request.requestId, path: request.path });
  metrics.captureColdStartMetric(); // emits once, on the first invocation
  try {
    const { response, outcome } = await ingestCore()(request);
    if (outcome) record(outcome);
    logger.debug('Answered', { statusCode: response.statusCode });
    return response;
  } catch (error) {
    // Only a bug or a misconfiguration gets here: every bad request has its 4xx in the core.
    logger.error('Unhandled error', { error: error as Error });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: '{"detail":"Internal Server Error"}',
    };
  } finally {
    logger.removeKeys(['api_request_id', 'path']);
  }
}
