import { isIP, Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  type Admin,
  CompressionTypes,
  type ISocketFactory,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
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
 * A kafkajs socket factory (the default one, kafkajs/src/network/socketFactory.js) that can be shut: then
 * every socket it opened is destroyed and every later connection attempt fails at once, so a client that
 * was torn down can send nothing more, whatever its retry loop still has scheduled.
 */
function shuttableSockets(): { factory: ISocketFactory; shut(): void } {
  const open = new Set<Socket>();
  let shut = false;
  const torn = () => new Error('producer torn down after a failed or abandoned send');
  return {
    factory: ({ host, port, ssl, onConnect }) => {
      if (shut) {
        const refused = new Socket();
        process.nextTick(() => refused.destroy(torn()));
        return refused;
      }
      const socket = ssl
        ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
        : tcpConnect({ host, port }, onConnect);
      socket.setKeepAlive(true, 60_000);
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      return socket;
    },
    shut() {
      shut = true;
      for (const socket of open) socket.destroy(torn());
    },
  };
}

/** One kafkajs client and its producer, used until a send through it fails or is abandoned. */
interface Generation {
  readonly producer: Producer;
  readonly connected: Promise<void>;
  tearDown(): void;
}

/**
 * kafkajs producer: acks=all, gzip, at-least-once (not idempotent; the README's API section says why),
 * connected once and reused across invocations until a send fails or outlives its deadline. Then its
 * client is torn down and the next send starts a new one:
 * - an idempotent kafkajs producer rolls a partition's sequence number back whenever a produce request
 *   fails (kafkajs/src/producer/sendMessages.js, the catch around broker.produce), also when the broker
 *   did append the batch (a timed-out request, a connection lost after the write). Its next batch then
 *   reuses the written batch's producer id and sequence numbers: the broker acknowledges it as a duplicate
 *   without writing it (a 200 for a lost record), or answers OUT_OF_ORDER_SEQUENCE_NUMBER to every later
 *   batch, as kafkajs asks for a producer id only at connect (eosManager.initProducerId). Without
 *   idempotence no such state exists, and a new client carries none over;
 * - kafkajs goes on retrying a send after our deadline answered its caller; a torn-down client's sockets
 *   are shut (see shuttableSockets), so nothing is sent after the answer.
 * Retries are bounded, so a dead broker surfaces as an error within `deadlineMs`.
 */
export function kafkajsProducer(
  options: ProducerOptions,
  log: (msg: string) => void = () => {},
): KafkaProducer {
  const compression = COMPRESSION[options.compression];
  if (compression === undefined) {
    throw new Error(`kafkajs supports compression none|gzip here, not ${options.compression}`);
  }
  const config: KafkaConfig = {
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
      ({ namespace, log: entry }) =>
        log(`kafkajs ${namespace}: ${entry.message}`),
  };
  let current: Generation | undefined;
  let admin: Admin | undefined;

  function generation(): Generation {
    const sockets = shuttableSockets();
    const producer = new Kafka({ ...config, socketFactory: sockets.factory }).producer({
      idempotent: false,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: config.retry,
    });
    const connected = producer.connect();
    connected.catch(() => {}); // the send that awaits it reports the failure
    return {
      producer,
      connected,
      tearDown() {
        sockets.shut();
        producer.disconnect().catch(() => {});
      },
    };
  }

  return {
    async send(topic: string, messages: readonly KafkaMessage[], timeoutMs = options.deadlineMs) {
      current ??= generation();
      const used = current;
      try {
        await withDeadline(
          used.connected.then(() =>
            used.producer.send({
              topic,
              acks: -1,
              timeout: options.requestTimeoutMs,
              compression,
              messages: messages.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
            }),
          ),
          timeoutMs,
          `produce to ${topic}`,
        );
      } catch (error) {
        if (current === used) current = undefined;
        used.tearDown();
        throw error;
      }
    },
    async ping() {
      admin ??= new Kafka(config).admin({ retry: { retries: 0 } });
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
      const open = current;
      current = undefined;
      await Promise.allSettled([open?.producer.disconnect(), admin?.disconnect()]);
      admin = undefined;
    },
  };
}
