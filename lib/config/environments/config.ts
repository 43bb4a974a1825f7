/**
 * The shape of an environment: what the local platform and every deployable environment have, and what
 * only the deployed ones add. Values live in base.ts, deployable.ts and local.ts.
 */

import type {
  AlarmSettings,
  ConsumerAccess,
  IngestLimits,
  IngestSettings,
  MskSettings,
  SinkSettings,
  TableFormat,
  TopicSettings,
} from './settings';

/** The environments deployed to AWS accounts. */
export type AwsEnvName = 'dev' | 'staging' | 'prod';
/** Every environment `cdk deploy` takes: AWS's, and `hybrid`, deployed into a local AWS emulator (`npm run hybrid`). */
export type DeployableEnvName = AwsEnvName | 'hybrid';
export type EnvName = DeployableEnvName | 'local';

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
