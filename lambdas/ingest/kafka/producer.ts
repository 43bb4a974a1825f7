/**
 * The one thing the ingest path needs from Kafka: send messages and learn that all in-sync replicas have
 * them. Implementations (kafkajs, @platformatic/kafka) live next to this file; the core, the local platform
 * and the tests depend on this interface only.
 */

export interface KafkaMessage {
  /** The record id: same id, same partition, so per-record order holds. */
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface KafkaProducer {
  /**
   * Resolves once every message is acknowledged by all in-sync replicas (acks=all). Rejects with
   * KafkaUnavailableError, within `timeoutMs` (default: the configured deadline), when that cannot be had;
   * then nothing of this send is sent any more.
   */
  send(topic: string, messages: readonly KafkaMessage[], timeoutMs?: number): Promise<void>;
  /** Whether a metadata request to the cluster succeeds within the deadline. Never rejects. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const weighedHeaders = new WeakMap<KafkaMessage['headers'], number>();

/** UTF-8 bytes of header names and values; weighed once per headers object (a request's records share one). */
export function headerBytes(headers: KafkaMessage['headers']): number {
  let bytes = weighedHeaders.get(headers);
  if (bytes === undefined) {
    bytes = 0;
    for (const name in headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string);
    weighedHeaders.set(headers, bytes);
  }
  return bytes;
}

/** What a message weighs in a produce request: UTF-8 bytes of key, value and headers (Kafka counts bytes). */
export function messageBytes(message: KafkaMessage): number {
  return Buffer.byteLength(message.key) + Buffer.byteLength(message.value) + headerBytes(message.headers);
}

export class KafkaUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaUnavailableError';
  }
}

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** How to reach the cluster: plaintext locally, IAM (SASL OAUTHBEARER over TLS) on MSK. */
export type KafkaAuth =
  | { readonly mechanism: 'plaintext' }
  | { readonly mechanism: 'aws-iam'; readonly region: string };

export interface ProducerOptions {
  readonly clientId: string;
  /** Resolved lazily, once: on AWS this is a GetBootstrapBrokers call (see ./brokers.ts). */
  readonly brokers: () => Promise<readonly string[]>;
  readonly auth: KafkaAuth;
  readonly compression: Compression;
  /** TCP connect timeout per broker. */
  readonly connectTimeoutMs: number;
  /** Produce/metadata request timeout. */
  readonly requestTimeoutMs: number;
  /** Upper bound on one send() or ping(), retries included: keeps a dead broker far from the Lambda timeout. */
  readonly deadlineMs: number;
}

/** Rejects with KafkaUnavailableError when `work` has not settled within `ms`. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KafkaUnavailableError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    throw error instanceof KafkaUnavailableError
      ? error
      : new KafkaUnavailableError(`${what} failed: ${(error as Error)?.message ?? error}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** An IAM auth token for MSK, signed with the Lambda's credentials (the SDK's default provider chain). */
export async function mskIamToken(region: string): Promise<string> {
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  return (await generateAuthToken({ region })).token;
}
