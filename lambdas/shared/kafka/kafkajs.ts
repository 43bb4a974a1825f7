import { type Admin, CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import {
  type Compression,
  type KafkaMessage,
  type KafkaProducer,
  mskIamToken,
  type ProducerOptions,
  withDeadline,
} from './producer';

const COMPRESSION: Partial<Record<Compression, CompressionTypes>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
};

/**
 * kafkajs producer: idempotent, acks=all, connected once and reused across invocations. Retries are
 * bounded (not kafkajs' idempotent default of "forever") so a dead broker surfaces as an error within
 * `deadlineMs`; the producer's sequence numbers still deduplicate the retries it does make.
 */
export function kafkajsProducer(
  options: ProducerOptions,
  log: (msg: string) => void = () => {},
): KafkaProducer {
  const compression = COMPRESSION[options.compression];
  if (compression === undefined) {
    throw new Error(`kafkajs supports compression none|gzip here, not ${options.compression}`);
  }
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: async () => [...(await options.brokers())],
    connectionTimeout: options.connectTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    ...(options.auth.mechanism === 'aws-iam'
      ? {
          ssl: true,
          sasl: {
            mechanism: 'oauthbearer' as const,
            oauthBearerProvider: async () => ({
              value: await mskIamToken((options.auth as { region: string }).region),
            }),
          },
        }
      : {}),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, log: entry }) => {
        // Bounded retries are the point (see above); kafkajs would say so at every cold start.
        if (!entry.message.startsWith('Limiting retries for the idempotent producer')) {
          log(`kafkajs ${namespace}: ${entry.message}`);
        }
      },
  });
  const producer: Producer = kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  let connected: Promise<void> | undefined;
  let admin: Admin | undefined;

  const connect = () => {
    connected ??= producer.connect().catch((error) => {
      connected = undefined; // the next call tries again from scratch
      throw error;
    });
    return connected;
  };

  return {
    async send(topic: string, messages: readonly KafkaMessage[]) {
      await withDeadline(
        connect().then(() =>
          producer.send({
            topic,
            acks: -1,
            timeout: options.requestTimeoutMs,
            compression,
            messages: messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
          }),
        ),
        options.deadlineMs,
        `produce to ${topic}`,
      );
    },
    async ping() {
      admin ??= kafka.admin({ retry: { retries: 0 } });
      try {
        await withDeadline(
          admin.connect().then(() => admin?.describeCluster()),
          options.deadlineMs,
          'cluster metadata',
        );
        return true;
      } catch {
        await admin.disconnect().catch(() => {});
        admin = undefined;
        return false;
      }
    },
    async close() {
      await Promise.allSettled([producer.disconnect(), admin?.disconnect()]);
      connected = undefined;
      admin = undefined;
    },
  };
}
