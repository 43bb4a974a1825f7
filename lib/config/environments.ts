/**
 * Every environment's settings, in one place: the deployable ones (`cdk synth|deploy -c env=<name>`) as one
 * base plus each environment's overrides, and the local platform's (localstack/) in its own small object,
 * which has only what means something on one host. Accounts can be overridden per environment with
 * LAKEHOUSE_<ENV>_ACCOUNT (e.g. LAKEHOUSE_PROD_ACCOUNT=123456789012) so no account id needs committing.
 */

import { DEFAULT_INGEST_LIMITS } from '../../lambdas/ingest/config';

/** The environments deployed to AWS accounts. */
export type AwsEnvName = 'dev' | 'staging' | 'prod';
/** Every environment `cdk deploy` takes: AWS's, and `hybrid`, deployed into a local AWS emulator (`npm run hybrid`). */
export type DeployableEnvName = AwsEnvName | 'hybrid';
export type EnvName = DeployableEnvName | 'local';

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

/** What the local platform and every deployed environment have: names, topics, limits, objectives. */
export interface EnvironmentConfig {
  readonly name: EnvName;
  readonly account: string;
  readonly region: string;
  /** Prefix of every named resource (buckets, topics' cluster, stacks). */
  readonly prefix: string;
  readonly topics: TopicSettings;
  readonly ingest: IngestLimits;
  readonly sink: SinkSettings;
  readonly lake: {
    /** Lower bound on records per gold p95 group. */
    readonly goldMinGroupCount: number;
  };
  readonly tableFormat: TableFormat;
  readonly alarms: AlarmSettings;
}

/** A deployable environment: the platform plus what only AWS has (network, MSK, WAF, MWAA, retention). */
export interface DeployableConfig extends EnvironmentConfig {
  readonly name: DeployableEnvName;
  readonly availabilityZones: number;
  readonly msk: MskSettings;
  readonly ingest: IngestSettings;
  readonly lake: EnvironmentConfig['lake'] & {
    /** Days after which raw objects move to Infrequent Access. */
    readonly rawInfrequentAccessDays: number;
    /** Days after which raw objects move to Glacier Instant Retrieval. */
    readonly rawGlacierDays: number;
    readonly noncurrentVersionExpirationDays: number;
    readonly accessLogExpirationDays: number;
    /**
     * Iceberg only: the Glue Data Catalog's table optimizers (compaction, snapshot retention, orphan-file
     * deletion) on the curated and curated-quarantine tables. A table optimizer needs its table, which the
     * first raw_to_curated run creates: turn this on in a redeploy after that run (README.md#table-format-delta-lake-or-apache-iceberg).
     */
    readonly icebergTableOptimizers: boolean;
  };
  /**
   * Second region the lake's data buckets replicate to (S3 replication with a KMS key of that region), for
   * disaster recovery; none where a regional outage may lose the lake (see README, Disaster recovery).
   */
  readonly replicaRegion?: string;
  readonly logRetentionDays: number;
  /**
   * NAT gateways of the VPC (one per AZ where an AZ outage must not cut egress). With none, the private
   * subnets are isolated (the AWS APIs through the VPC endpoints only) and the VPC has no public subnets.
   */
  readonly natGateways: number;
  /**
   * The AWS services an environment deploys beyond the data path. All on in AWS; `hybrid` turns off those
   * its emulator refuses (README.md#hybrid-deploy-into-a-local-aws-emulator lists each with the emulator's error).
   */
  readonly services: {
    /** VPC flow logs (AWS::EC2::FlowLog). */
    readonly flowLogs: boolean;
    /** The Spark jobs' Glue security configuration: logs and bookmarks encrypted (AWS::Glue::SecurityConfiguration). */
    readonly glueSecurityConfiguration: boolean;
    /** The datasets' schemas in the Glue Schema Registry (AWS::Glue::Registry, AWS::Glue::Schema). */
    readonly schemaRegistry: boolean;
    /** The EMR Serverless application (AWS::EMRServerless::Application). */
    readonly emrServerless: boolean;
    /** The MWAA environment that runs the deployed DAGs (AWS::MWAA::Environment). */
    readonly mwaa: boolean;
    /** The Managed Grafana workspace and its provisioning (AWS::Grafana::Workspace). */
    readonly grafana: boolean;
    /** Alarms on metric math (ratios, sums over mappings): AWS::CloudWatch::Alarm with Metrics. */
    readonly metricMathAlarms: boolean;
    /**
     * The Spark artifacts and the DAGs uploaded at deploy by CDK's BucketDeployment (Custom::CDKBucketDeployment,
     * whose provider Lambda runs the AWS CLI from a layer under /opt).
     */
    readonly bucketDeployments: boolean;
  };
  readonly processing: {
    readonly glueWorkerType: 'G.1X' | 'G.2X';
    readonly glueWorkers: number;
    readonly jobTimeoutMinutes: number;
    /** Largest EMR Serverless capacity the application may scale to. */
    readonly emrMaxVcpu: number;
    readonly emrMaxMemoryGb: number;
  };
  readonly orchestration: {
    readonly airflowVersion: string;
    readonly environmentClass: 'mw1.micro' | 'mw1.small' | 'mw1.medium' | 'mw1.large';
    readonly maxWorkers: number;
  };
  /**
   * Whether `cdk destroy` may delete data. Data is deleted only when this is true AND the deploy passes
   * `-c confirmDestroyData=<env name>` (the double opt-in); otherwise buckets, tables and logs are retained.
   */
  readonly allowDataDestruction: boolean;
  /** Other teams' Kafka consumers granted read access to chosen topics (fan-out and replay, README.md#consuming-the-raw-topics-fan-out-and-replay). */
  readonly consumers?: readonly ConsumerAccess[];
}

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

const account = (env: DeployableEnvName, fallback: string): string =>
  process.env[`LAKEHOUSE_${env.toUpperCase()}_ACCOUNT`] ?? fallback;

const ALARMS: AlarmSettings = {
  ingestLatencyP99Ms: 5_000,
  consumerLagMessages: 10_000,
  jobDurationMinutes: 60,
  rejectedRatio: 0.001,
  api5xxRatio: 0.0001,
};

/** The local platform: one host, one broker (or a few), the emulator's account and region. */
export const LOCAL: EnvironmentConfig = {
  name: 'local',
  account: '000000000000',
  region: 'us-east-1',
  prefix: 'lakehouse-local',
  topics: { partitions: 3, replicationFactor: 1, minInsyncReplicas: 1, retentionHours: 168 },
  ingest: { memoryMb: 512, timeoutSeconds: 10, ...DEFAULT_INGEST_LIMITS },
  sink: {
    memoryMb: 1024,
    timeoutSeconds: 60,
    batchSize: 10_000,
    maxBatchingWindowSeconds: 1,
    startingPosition: 'TRIM_HORIZON',
    maxRetryAttempts: 10,
    minPollers: 1,
    maxPollers: 2,
  },
  lake: { goldMinGroupCount: 5 },
  tableFormat: 'delta',
  alarms: ALARMS,
};

type Overrides<T> = { readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : Overrides<T[K]> };

/** `base` with `overrides` laid over it, object by object (arrays and scalars are replaced whole). */
function overlay<T extends object>(base: T, overrides: Overrides<T>): T {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const under = merged[key];
    const nested = value && typeof value === 'object' && !Array.isArray(value);
    merged[key] = nested && under && typeof under === 'object' ? overlay(under, value) : value;
  }
  return merged as T;
}

/** What staging and prod share; dev overrides towards small and cheap. */
const BASE: Omit<DeployableConfig, 'name' | 'account' | 'prefix' | 'msk'> = {
  region: 'eu-west-1',
  availabilityZones: 3,
  // MSK Serverless fixes replication at 3 and min.insync.replicas at 2; provisioned clusters use the same.
  topics: { partitions: 6, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: 168 },
  ingest: {
    memoryMb: 1024,
    timeoutSeconds: 10,
    ...DEFAULT_INGEST_LIMITS,
    throttleRatePerSecond: 1_000,
    throttleBurst: 2_000,
    quotaPerDay: 10_000_000,
    readThrottleRatePerSecond: 50,
    readThrottleBurst: 100,
    producers: [{ name: SMOKE_PRODUCER, quotaPerDay: 100_000 }, { name: 'payments' }, { name: 'claims' }],
    wafRateLimitPer5Min: 50_000,
    waf: true,
  },
  sink: {
    memoryMb: 2048,
    timeoutSeconds: 120,
    batchSize: 10_000,
    maxBatchingWindowSeconds: 1,
    startingPosition: 'TRIM_HORIZON',
    maxRetryAttempts: 20,
    minPollers: 1,
    maxPollers: 4,
  },
  lake: {
    rawInfrequentAccessDays: 30,
    rawGlacierDays: 180,
    noncurrentVersionExpirationDays: 30,
    accessLogExpirationDays: 90,
    goldMinGroupCount: 10,
    icebergTableOptimizers: false,
  },
  tableFormat: 'delta',
  logRetentionDays: 90,
  natGateways: 3,
  services: {
    flowLogs: true,
    glueSecurityConfiguration: true,
    schemaRegistry: true,
    emrServerless: true,
    mwaa: true,
    grafana: true,
    metricMathAlarms: true,
    bucketDeployments: true,
  },
  processing: {
    glueWorkerType: 'G.1X',
    glueWorkers: 4,
    jobTimeoutMinutes: 60,
    emrMaxVcpu: 64,
    emrMaxMemoryGb: 256,
  },
  orchestration: { airflowVersion: '2.10.3', environmentClass: 'mw1.small', maxWorkers: 4 },
  allowDataDestruction: false,
  alarms: ALARMS,
};

type Identity = Pick<DeployableConfig, 'name' | 'account' | 'msk'>;
const environment = (overrides: Overrides<DeployableConfig> & Identity) =>
  overlay<DeployableConfig>(
    {
      ...BASE,
      name: overrides.name,
      account: overrides.account,
      prefix: `lakehouse-${overrides.name}`,
      msk: overrides.msk,
    },
    overrides,
  );

const provisionedMsk = (instanceType: string, volumeSizeGiB: number): MskSettings => ({
  mode: 'provisioned',
  kafkaVersion: '3.9.x',
  brokerCount: 3,
  instanceType,
  volumeSizeGiB,
});

/** dev: small and cheap. */
const DEV: Overrides<DeployableConfig> = {
  availabilityZones: 2,
  topics: { partitions: 3, retentionHours: 72 },
  ingest: {
    memoryMb: 512,
    throttleRatePerSecond: 200,
    throttleBurst: 400,
    quotaPerDay: 1_000_000,
    readThrottleRatePerSecond: 20,
    readThrottleBurst: 40,
    producers: [{ name: SMOKE_PRODUCER }, { name: 'demo' }],
    wafRateLimitPer5Min: 10_000,
    waf: false,
  },
  sink: { memoryMb: 1024, batchSize: 5_000, maxRetryAttempts: 10, maxPollers: 2 },
  lake: {
    rawGlacierDays: 90,
    noncurrentVersionExpirationDays: 7,
    accessLogExpirationDays: 30,
    goldMinGroupCount: 5,
  },
  logRetentionDays: 14,
  natGateways: 1,
  processing: { glueWorkers: 2, emrMaxVcpu: 16, emrMaxMemoryGb: 64 },
  orchestration: { environmentClass: 'mw1.micro', maxWorkers: 1 },
  allowDataDestruction: true,
};

/** The emulator's account (moto's and ministack's). */
export const EMULATOR_ACCOUNT = '000000000000';

/** Where `hybrid`'s Kafka is: the local broker `npm run hybrid` starts (it sets this to the port it chose). */
export const HYBRID_KAFKA_ENV = 'LAKEHOUSE_HYBRID_BOOTSTRAP_SERVERS';

export const ENVIRONMENTS: Readonly<Record<DeployableEnvName, DeployableConfig>> = {
  dev: environment({
    ...DEV,
    name: 'dev',
    account: account('dev', '111111111111'),
    msk: { mode: 'serverless' },
  }),
  /**
   * dev as deployed into a local AWS emulator (`npm run hybrid`): the same stacks and constructs, with the
   * local broker for MSK, no NAT gateway, and the services the emulator refuses turned off.
   */
  hybrid: environment({
    ...overlay(DEV, {
      // One local broker.
      topics: { replicationFactor: 1, minInsyncReplicas: 1 },
      natGateways: 0,
      services: {
        flowLogs: false,
        glueSecurityConfiguration: false,
        schemaRegistry: false,
        emrServerless: false,
        mwaa: false,
        grafana: false,
        metricMathAlarms: false,
        bucketDeployments: false,
      },
    }),
    name: 'hybrid',
    account: EMULATOR_ACCOUNT,
    msk: { mode: 'external', bootstrapServers: process.env[HYBRID_KAFKA_ENV] ?? '127.0.0.1:9092' },
  }),
  staging: environment({
    name: 'staging',
    account: account('staging', '222222222222'),
    msk: provisionedMsk('kafka.m7g.large', 500),
  }),
  prod: environment({
    name: 'prod',
    account: account('prod', '333333333333'),
    msk: provisionedMsk('kafka.m7g.xlarge', 2000),
    topics: { partitions: 12 },
    ingest: {
      throttleRatePerSecond: 5_000,
      throttleBurst: 10_000,
      quotaPerDay: 100_000_000,
      readThrottleRatePerSecond: 100,
      readThrottleBurst: 200,
      wafRateLimitPer5Min: 100_000,
    },
    sink: { maxRetryAttempts: 50, minPollers: 2, maxPollers: 10 },
    lake: {
      rawGlacierDays: 365,
      noncurrentVersionExpirationDays: 90,
      accessLogExpirationDays: 365,
      goldMinGroupCount: 20,
    },
    replicaRegion: 'eu-central-1',
    logRetentionDays: 365,
    processing: { glueWorkerType: 'G.2X', glueWorkers: 10, emrMaxVcpu: 200, emrMaxMemoryGb: 800 },
    orchestration: { environmentClass: 'mw1.medium', maxWorkers: 10 },
  }),
};

export const AWS_ENVS: readonly AwsEnvName[] = ['dev', 'staging', 'prod'];
export const DEPLOYABLE_ENVS: readonly DeployableEnvName[] = [...AWS_ENVS, 'hybrid'];

/** A deployable environment's settings (literal names type as such), or the local platform's. */
export function environmentConfig(name: DeployableEnvName): DeployableConfig;
export function environmentConfig(name: 'local'): EnvironmentConfig;
export function environmentConfig(name: string | undefined): EnvironmentConfig;
export function environmentConfig(name: string | undefined): EnvironmentConfig {
  return name === 'local' ? LOCAL : deployableConfig(name);
}

/** A deployable environment's settings; the local platform is not deployed with CDK. */
export function deployableConfig(name: string | undefined): DeployableConfig {
  const config = ENVIRONMENTS[(name ?? '') as DeployableEnvName];
  if (!config) {
    const hint = name === 'local' ? ' The local environment is not deployed with CDK (see localstack/).' : '';
    throw new Error(`Unknown environment "${name}". Use one of: ${DEPLOYABLE_ENVS.join(', ')}.${hint}`);
  }
  return config;
}

/** The alarm topic's name: Observability names its topic so, and the sink's alarms publish to it by name. */
export function alarmTopicName(config: Pick<DeployableConfig, 'prefix'>): string {
  return `${config.prefix}-alarms`;
}
