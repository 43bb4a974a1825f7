/**
 * API Gateway (REST, proxy integration) adapter of the ingest core: turns the event into an HttpRequest,
 * builds the core once per cold start (registry validators compiled, producer connected on first use and
 * reused), and reports logs, metrics and traces through Powertools.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createRegistry } from '../../schemas';
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME, readIngestConfig } from './config';
import { createIngestCore, type HttpRequest, type IngestCore, type IngestOutcome } from './core';
import type { KafkaProducer } from './kafka/producer';
import { ingestProducer } from './producer';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
});
const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME });

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
  metrics.addMetric('RecordsAccepted', MetricUnit.Count, outcome.accepted);
  metrics.addMetric('RecordsRejected', MetricUnit.Count, outcome.rejected);
  if (outcome.produceMs !== undefined) {
    metrics.addMetric('ProduceLatency', MetricUnit.Milliseconds, outcome.produceMs);
  }
  if (outcome.produceError !== undefined) {
    metrics.addMetric('KafkaUnavailable', MetricUnit.Count, 1);
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
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment('## ingest');
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  metrics.captureColdStartMetric(); // emits once, on the first invocation
  try {
    const { response, outcome } = await ingestCore()(request);
    if (outcome) {
      tracer.putAnnotation('dataset', outcome.dataset);
      record(outcome);
    }
    logger.debug('Answered', { statusCode: response.statusCode });
    return response;
  } catch (error) {
    // Only a bug or a misconfiguration gets here: every bad request has its 4xx in the core.
    logger.error('Unhandled error', { error: error as Error });
    tracer.addErrorAsMetadata(error as Error);
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json' },
      body: '{"detail":"Internal Server Error"}',
    };
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
    logger.removeKeys(['api_request_id', 'path']);
  }
}
