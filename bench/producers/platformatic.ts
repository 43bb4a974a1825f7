import { compatibilityPartitioner, Producer, stringSerializers } from '@platformatic/kafka';
import {
  type KafkaMessage,
  type KafkaProducer,
  mskIamToken,
  type ProducerOptions,
  withDeadline,
} from '../../lambdas/ingest/kafka/producer';

/**
 * Benchmark comparator, not used by the Lambdas (see the ingest report: ESM-only with import.meta.url
 * WebAssembly loading that a CommonJS Lambda bundle and Jest cannot load, a larger bundle, and an
 * idempotent producer that fails concurrent sends with OUT_OF_ORDER_SEQUENCE_NUMBER).
 * @platformatic/kafka producer: idempotent, acks=all, connected once and reused across invocations.
 * Pure JavaScript (its snappy/lz4 codecs are WebAssembly), no native build. Keys are partitioned with the
 * Java client's murmur2 (compatibilityPartitioner), like kafkajs' DefaultPartitioner, so a record id
 * lands on the same partition whichever client produced it.
 */
export function platformaticProducer(options: ProducerOptions): KafkaProducer {
  let producer: Promise<Producer<string, string, string, string>> | undefined;

  const client = () => {
    producer ??= options
      .brokers()
      .then(
        (brokers) =>
          new Producer({
            clientId: options.clientId,
            bootstrapBrokers: [...brokers],
            serializers: stringSerializers,
            idempotent: true,
            acks: -1,
            compression: options.compression,
            partitioner: compatibilityPartitioner,
            autocreateTopics: false,
            connectTimeout: options.connectTimeoutMs,
            requestTimeout: options.requestTimeoutMs,
            timeout: options.requestTimeoutMs,
            retries: 2,
            retryDelay: 100,
            ...(options.auth.mechanism === 'aws-iam'
              ? {
                  tls: {},
                  sasl: {
                    mechanism: 'OAUTHBEARER' as const,
                    token: () => mskIamToken((options.auth as { region: string }).region),
                  },
                }
              : {}),
          }),
      )
      .catch((error) => {
        producer = undefined;
        throw error;
      });
    return producer;
  };

  return {
    async send(topic: string, messages: readonly KafkaMessage[]) {
      await withDeadline(
        client().then((p) =>
          p.send({
            messages: messages.map((m) => ({ topic, key: m.key, value: m.value, headers: { ...m.headers } })),
          }),
        ),
        options.deadlineMs,
        `produce to ${topic}`,
      );
    },
    async ping() {
      try {
        await withDeadline(
          client().then((p) => p.metadata({ topics: [], forceUpdate: true })),
          options.deadlineMs,
          'cluster metadata',
        );
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      const p = producer;
      producer = undefined;
      await p?.then((c) => c.close(true)).catch(() => {});
    },
  };
}
