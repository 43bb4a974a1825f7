import type { RegisteredDataset } from '../../../schemas';
import type { IngestLimits } from '../config';
import type { HttpRequest } from '../http';
import type { KafkaMessage, KafkaProducer } from '../kafka/producer';
import { parseJsonBody } from '../request-body';
import type { KafkaHealth } from './health';

/** What every route is given: the core's collaborators and the state it shares across requests. */
export interface RouteContext {
  readonly producer: KafkaProducer;
  readonly clock: () => number;
  readonly limits: IngestLimits;
  /** limits.maxMessageBytes, or the broker's limit (KAFKA_MESSAGE_MAX_BYTES) when unset. */
  readonly maxMessageBytes: number;
  readonly health: KafkaHealth;
}

export const parseBody = (context: RouteContext, request: HttpRequest) =>
  parseJsonBody(
    request.body,
    request.isBase64Encoded,
    request.headers['content-type'],
    context.limits.maxBodyBytes,
  );

/** Sends a request's messages; the outcome is also the freshest news of Kafka for /health. */
export async function produce(context: RouteContext, dataset: RegisteredDataset, messages: KafkaMessage[]) {
  const started = context.clock();
  try {
    await context.producer.send(dataset.topic, messages);
    context.health.report(true);
    return { ok: true as const, produceMs: context.clock() - started };
  } catch (produceError) {
    context.health.report(false);
    return { ok: false as const, produceError };
  }
}
