import { METRIC_SERVICES, POWERTOOLS_ENV } from '../shared/metric-names';
import { type BrokerSource, parseBrokerList } from './kafka/brokers';
import type { KafkaAuth, ProducerOptions } from './kafka/producer';

/** Names of the ingest Lambda's environment variables (the CDK stack imports these; never repeat them). */
export const ENV = {
  /** Comma-separated host:port list; plaintext. Set locally and in hybrid; takes precedence over MSK_CLUSTER_ARN. */
  kafkaBrokers: 'KAFKA_BROKERS',
  /** ARN of the MSK cluster; its IAM bootstrap brokers are looked up once per cold start. */
  mskClusterArn: 'MSK_CLUSTER_ARN',
  /** Largest accepted request body in bytes (an environment's ingest.maxBodyBytes; DEFAULT_INGEST_LIMITS). */
  maxBodyBytes: 'MAX_BODY_BYTES',
  /** Most records per batch request (an environment's ingest.maxBatchRecords; DEFAULT_INGEST_LIMITS). */
  maxBatchRecords: 'MAX_BATCH_RECORDS',
  /** Base URL of the /docs and /redoc assets (lambdas/ingest/docs.ts); unset: FastAPI's CDN. */
  docsAssetsUrl: 'DOCS_ASSETS_URL',
  /** Set by the Lambda runtime; the region of the IAM auth token. */
  region: 'AWS_REGION',
} as const;

export interface IngestLimits {
  readonly maxBodyBytes: number;
  readonly maxBatchRecords: number;
  /** Largest encoded request to Kafka (one record, or a batch's records together); KAFKA_MESSAGE_MAX_BYTES. */
  readonly maxMessageBytes?: number;
}

export interface IngestConfig {
  readonly limits: IngestLimits;
  readonly docsAssetsUrl?: string;
  readonly kafka: Omit<ProducerOptions, 'brokers'> & { readonly brokerSource: BrokerSource };
}

/**
 * Connect and request timeouts and the overall deadline of one produce: a dead broker gives a 503 after
 * about 3 s, well inside the ingest Lambda's timeout (10 s in every environment).
 */
export const KAFKA_TIMEOUTS = {
  connectTimeoutMs: 1_000,
  requestTimeoutMs: 2_500,
  deadlineMs: 3_000,
} as const;

/**
 * What the ingest lets one request put in Kafka, in UTF-8 bytes of keys, values and headers: below the
 * broker's message.max.bytes (1,048,588 by default, locally and on MSK) with room for the record batch's
 * own overhead. A larger record or batch gets a 413, never a produce that fails (and a 503) forever.
 */
export const KAFKA_MESSAGE_MAX_BYTES = 1_000_000;

/** Largest combined send of concurrent requests (see coalescing.ts); a 1 MB batch request still goes alone. */
export const COALESCE_MAX_BYTES = 900_000;

/** The API's request limits unless an environment sets others (lib/config/environments.ts starts from these). */
export const DEFAULT_INGEST_LIMITS = { maxBodyBytes: 1_048_576, maxBatchRecords: 500 } as const;

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${text}"`);
  return value;
}

export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const brokers = parseBrokerList(env[ENV.kafkaBrokers] ?? '');
  const clusterArn = env[ENV.mskClusterArn];
  let brokerSource: BrokerSource;
  let auth: KafkaAuth;
  if (brokers.length > 0) {
    brokerSource = { kind: 'static', brokers };
    auth = { mechanism: 'plaintext' };
  } else if (clusterArn) {
    const region = env[ENV.region];
    if (!region) throw new Error(`${ENV.region} is required with ${ENV.mskClusterArn}`);
    brokerSource = { kind: 'msk', clusterArn };
    auth = { mechanism: 'aws-iam', region };
  } else {
    throw new Error(`Set ${ENV.kafkaBrokers} (local) or ${ENV.mskClusterArn} (AWS)`);
  }
  return {
    limits: {
      maxBodyBytes: positiveInt(env, ENV.maxBodyBytes, DEFAULT_INGEST_LIMITS.maxBodyBytes),
      maxBatchRecords: positiveInt(env, ENV.maxBatchRecords, DEFAULT_INGEST_LIMITS.maxBatchRecords),
    },
    docsAssetsUrl: env[ENV.docsAssetsUrl] || undefined,
    kafka: {
      clientId: env[POWERTOOLS_ENV.serviceName] ?? METRIC_SERVICES.ingest,
      brokerSource,
      auth,
      compression: 'gzip',
      ...KAFKA_TIMEOUTS,
    },
  };
}
