import { COALESCE_MAX_BYTES, type IngestConfig } from './config';
import { brokerResolver } from './kafka/brokers';
import { coalescingProducer } from './kafka/coalescing';
import { kafkajsProducer } from './kafka/kafkajs';
import type { KafkaProducer } from './kafka/producer';

/**
 * The ingest handler's producer: kafkajs behind the coalescer, with the limits of ./config.ts. The handler,
 * the fault tests and the fault bench all build it here, so they exercise the same stack.
 */
export function ingestProducer(kafka: IngestConfig['kafka'], log?: (message: string) => void): KafkaProducer {
  const { brokerSource, ...options } = kafka;
  return coalescingProducer(kafkajsProducer({ ...options, brokers: brokerResolver(brokerSource) }, log), {
    maxBytes: COALESCE_MAX_BYTES,
    deadlineMs: options.deadlineMs,
  });
}
