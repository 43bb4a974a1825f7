/**
 * What each unit of the platform reads of an environment: the Kafka cluster and its topics, the ingest and
 * sink Lambdas, the alarms' objectives, the table format, other teams' consumers. Constructs take these,
 * not the whole environment (config.ts).
 */

export type MskSettings =
  | { readonly mode: 'serverless' }
  /**
   * A Kafka cluster outside the deployment, reached in plaintext: `hybrid`'s local KRaft broker. No cluster
   * or topic resources (the broker's owner creates the topics), no Kafka IAM (a plaintext broker has none);
   * the sink's mappings are self-managed Kafka mappings of those servers.
   */
  | { readonly mode: 'external'; readonly bootstrapServers: string }
  | {
      readonly mode: 'provisioned';
      readonly kafkaVersion: string;
      readonly brokerCount: number;
      readonly instanceType: string;
      readonly volumeSizeGiB: number;
    };

export interface TopicSettings {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly retentionHours: number;
}

/** One producer of records: its own API key and usage plan (revoke it alone by disabling its key). */
export interface ProducerSettings {
  /** Key and plan are named `<prefix>-<name>`. */
  readonly name: string;
  /** Overrides of the environment's per-producer limits. */
  readonly throttleRatePerSecond?: number;
  readonly throttleBurst?: number;
  readonly quotaPerDay?: number;
}

/** The producer `npm run smoke` posts as, after every deploy; every deployable environment has it. */
export const SMOKE_PRODUCER = 'smoke';

/** Request limits of the ingest Lambda (the local API applies the same). */
export interface IngestLimits {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Largest request body the API accepts (API Gateway's own ceiling is 10 MB). */
  readonly maxBodyBytes: number;
  readonly maxBatchRecords: number;
}

export interface IngestSettings extends IngestLimits {
  /** Stage throttling of the POST (record) routes, and each producer's usage plan unless it overrides. */
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
  /** Requests per day per producer's API key. */
  readonly quotaPerDay: number;
  /** Stage throttling of the public GET routes (/, /health, /openapi.json), apart from the producers'. */
  readonly readThrottleRatePerSecond: number;
  readonly readThrottleBurst: number;
  readonly producers: readonly ProducerSettings[];
  readonly waf: boolean;
  /** Requests per 5 minutes per client IP before the WAF rate-based rule blocks (when waf is on). */
  readonly wafRateLimitPer5Min: number;
}

export interface SinkSettings {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly batchSize: number;
  /**
   * How long a mapping gathers records before it invokes the sink, unless the batch or Lambda's 6 MB payload
   * fills first: whole seconds up to 300, or 0.5, Lambda's default for Kafka sources (CloudFormation takes
   * whole seconds only, so the template then leaves it unset). The local mapping waits the same.
   */
  readonly maxBatchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly maxRetryAttempts: number;
  /** Provisioned pollers of each Kafka event source mapping (retries and partial batch responses need them). */
  readonly minPollers: number;
  readonly maxPollers: number;
}

export interface AlarmSettings {
  readonly ingestLatencyP99Ms: number;
  readonly consumerLagMessages: number;
  readonly jobDurationMinutes: number;
  readonly rejectedRatio: number;
  readonly api5xxRatio: number;
  readonly email?: string;
}

/**
 * Format of the curated, curated-quarantine and gold tables (README.md#table-format-delta-lake-or-apache-iceberg):
 * Delta tables addressed by path, or Iceberg tables of the Glue database.
 */
export const TABLE_FORMATS = ['delta', 'iceberg'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/**
 * Another team's consumer: its consumer groups may read the raw topics of the named datasets, from any
 * retained offset. CDK turns it into the managed policy `<prefix>-kafka-consumer-<team>` (Streaming).
 */
export interface ConsumerAccess {
  /** Lower-case letters, digits and dashes; names the policy. */
  readonly team: string;
  /** Datasets whose topics `raw_<dataset>` it reads. */
  readonly datasets: readonly string[];
  /** Its consumer group ids, exactly (each team owns its groups; the sink's are never shared). */
  readonly groups: readonly string[];
  /** IAM roles of this account the policy is attached to; without them, attach it on the team's side. */
  readonly roleArns?: readonly string[];
}
