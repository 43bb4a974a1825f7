import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRICS_NAMESPACE, STREAMING_METRICS } from '../../lambdas/shared/metric-names';
import type { DatasetDefinition } from '../../schemas';
import type { EnvironmentConfig } from './environments';
import { glueDatabaseName, QUARANTINE_CURATED_PREFIX } from './lake';

/**
 * The Spark jobs' run arguments and the scripts bucket's layout, built once for Glue and EMR Serverless
 * (lib/constructs) and the local runner (localstack/spark): the same scripts get the same arguments
 * everywhere, only the bucket names differ.
 */

const REPO_ROOT = path.resolve(__dirname, '../..');
export const SCRIPTS_DIR = path.join(REPO_ROOT, 'glue-scripts');
/** Where scripts/setup.sh copies the jars of glue-scripts/spark-jars.pom.xml. */
const SPARK_JARS_DIR = path.join(REPO_ROOT, '.cache', 'spark-jars');

/** Key prefixes in the scripts bucket. */
export const SCRIPT_PREFIXES = {
  jobs: 'spark/jobs/',
  library: 'spark/lib/',
  schemas: 'spark/schemas/',
  jars: 'spark/jars/',
  state: 'spark/state',
  temp: 'spark/tmp',
  /** OpenLineage events of every run, one JSON object a line (see lineageSparkConf). */
  lineage: 'spark/lineage',
} as const;

/** Buckets the jobs read and write, by zone: names (CDK tokens on AWS). */
export interface SparkJobBuckets {
  readonly raw: string;
  readonly curated: string;
  readonly gold: string;
  readonly quarantine: string;
  /** Scripts, schemas, job state (bookmarks, run summaries), lineage and temporary files. */
  readonly scripts: string;
}

export const s3Uri = (bucket: string, key?: string) => (key ? `s3://${bucket}/${key}` : `s3://${bucket}`);

/**
 * Arguments every job run gets (zone URIs, state, the quality gate's objectives, the table format); a run
 * adds --dataset. Each script reads the ones it needs.
 */
export function sparkJobArguments(
  buckets: SparkJobBuckets,
  config: Pick<EnvironmentConfig, 'lake' | 'alarms' | 'tableFormat' | 'prefix'>,
): Record<string, string> {
  return {
    // Delta is the jobs' own default, so a Delta environment's arguments are what they were before Iceberg.
    ...(config.tableFormat === 'iceberg' && {
      '--table_format': config.tableFormat,
      '--catalog_database': glueDatabaseName(config),
    }),
    '--raw_uri': s3Uri(buckets.raw),
    '--curated_uri': s3Uri(buckets.curated),
    '--gold_uri': s3Uri(buckets.gold),
    '--quarantine_uri': s3Uri(buckets.quarantine, QUARANTINE_CURATED_PREFIX),
    '--state_uri': s3Uri(buckets.scripts, SCRIPT_PREFIXES.state),
    '--min_group_count': String(config.lake.goldMinGroupCount),
    // The quality gate's objective (a run rejecting more stays unpublished), as the SLO alarm's.
    '--max_rejected_share': String(config.alarms.rejectedRatio),
  };
}

/**
 * The streaming windows job (glue-scripts/streaming_windows.py): a Glue streaming job on AWS, beside the
 * batch step locally. Its settings are the same everywhere; the CDK and the local runner pass them.
 */
export const STREAMING_WINDOWS = {
  script: 'streaming_windows',
  /** Event-time watermark: a record further behind its dataset's newest event time is late (quarantined). */
  watermarkMinutes: 10,
  /** Micro-batch interval: a window row is visible within about this plus one batch's work. */
  triggerSeconds: 5,
  /** Event to window row, p99 over 5 minutes, beyond which its alarm fires. */
  freshnessAlarmSeconds: 120,
} as const;

/** Where the streaming job keeps its checkpoint, window state and status (under the state prefix). */
export const STREAMING_STATE_KEYS = {
  status: `${SCRIPT_PREFIXES.state}/${STREAMING_WINDOWS.script}/status.json`,
  checkpoint: `${SCRIPT_PREFIXES.state}/${STREAMING_WINDOWS.script}/checkpoint`,
} as const;

/** The consumer group prefix of the streaming job (Spark appends a query id); its IAM grants name it. */
export const streamingConsumerGroupPrefix = (config: Pick<EnvironmentConfig, 'prefix'>) =>
  `${config.prefix}-${STREAMING_WINDOWS.script}`;

/** The datasets the streaming job windows: those whose definition declares a streamingWindow. */
export function streamedDatasets(datasets: readonly DatasetDefinition[]): DatasetDefinition[] {
  return datasets.filter((d) => d.streamingWindow);
}

/** The streaming job's arguments: the batch jobs' zone arguments plus its source, windows and metrics. */
export function streamingWindowsArguments(
  buckets: SparkJobBuckets,
  config: Parameters<typeof sparkJobArguments>[1],
  source: {
    /** The local broker's bootstrap servers, or an MSK cluster (IAM auth) whose brokers the job looks up. */
    readonly kafka: { readonly bootstrapServers: string } | { readonly clusterArn: string };
    readonly datasets: readonly DatasetDefinition[];
  },
  publishMetrics: boolean,
): Record<string, string> {
  const kafka = source.kafka;
  return {
    ...sparkJobArguments(buckets, config),
    '--datasets': streamedDatasets(source.datasets)
      .map((d) => d.name)
      .join(','),
    ...('clusterArn' in kafka
      ? { '--kafka_cluster_arn': kafka.clusterArn, '--kafka_auth': 'iam' }
      : { '--kafka_bootstrap_servers': kafka.bootstrapServers }),
    '--consumer_group_prefix': streamingConsumerGroupPrefix(config),
    '--watermark_minutes': String(STREAMING_WINDOWS.watermarkMinutes),
    '--trigger_seconds': String(STREAMING_WINDOWS.triggerSeconds),
    ...(publishMetrics && {
      '--metrics_namespace': METRICS_NAMESPACE,
      '--metric_names': JSON.stringify(STREAMING_METRICS),
    }),
  };
}

/** The batch job entry points: every top-level glue-scripts/*.py but the streaming job. */
export function sparkJobScripts(): string[] {
  return fs
    .readdirSync(SCRIPTS_DIR)
    .filter((f) => f.endsWith('.py'))
    .map((f) => f.slice(0, -3))
    .filter((script) => script !== STREAMING_WINDOWS.script)
    .sort();
}

/** The pipeline's jobs in run order (the local runner and the drill run these for a dataset). */
export const PIPELINE_JOBS = ['raw_to_curated', 'curated_to_gold'] as const;

/** Glue job name of a script, e.g. lakehouse-prod-raw_to_curated; the DAGs derive the same names. */
export function glueJobName(config: Pick<EnvironmentConfig, 'prefix'>, script: string): string {
  return `${config.prefix}-${script}`;
}

/**
 * OpenLineage's Spark listener (glue-scripts/spark-jars.pom.xml), which Glue and EMR do not ship: the same
 * jar locally and on AWS. Resolved by scripts/setup.sh; synthesis needs it to upload it.
 */
export function openLineageJar(): string {
  const jar = fs.existsSync(SPARK_JARS_DIR)
    ? fs.readdirSync(SPARK_JARS_DIR).find((f) => /^openlineage-spark_[\d.]+-[\d.]+\.jar$/.test(f))
    : undefined;
  if (!jar) throw new Error(`no openlineage-spark jar in ${SPARK_JARS_DIR}: run scripts/setup.sh`);
  return path.join(SPARK_JARS_DIR, jar);
}

/**
 * Spark configuration of the Iceberg tables (catalog `glue_catalog`, the Glue Data Catalog, as
 * glue-scripts/lakehouse_spark/table_format/iceberg.py names it) next to Delta, which the jobs' state tables keep
 * using: both session extensions, Delta as the session catalog. Glue 5.0 and EMR Serverless ship both formats.
 */
export const ICEBERG_SPARK_CONF: Readonly<Record<string, string>> = {
  'spark.sql.extensions':
    'io.delta.sql.DeltaSparkSessionExtension,org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
  'spark.sql.catalog.spark_catalog': 'org.apache.spark.sql.delta.catalog.DeltaCatalog',
  'spark.sql.catalog.glue_catalog': 'org.apache.iceberg.spark.SparkCatalog',
  'spark.sql.catalog.glue_catalog.catalog-impl': 'org.apache.iceberg.aws.glue.GlueCatalog',
  'spark.sql.catalog.glue_catalog.io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
};

/** Where the listener's file transport writes on the driver before the run's events go to S3. */
const DRIVER_LINEAGE_FILE = '/tmp/openlineage/events.jsonl';

/**
 * Spark configuration of lineage on AWS. openlineage-spark 1.37.0 ships no S3 transport and
 * io.openlineage:transports-s3 does not resolve from Maven Central, so the listener's file transport
 * writes on the driver and glue-scripts/lakehouse_spark/runtime.py copies the run's events to `uri`
 * (`<uri>/<application id>.jsonl`) when the job ends.
 */
export function lineageSparkConf(uri: string): Record<string, string> {
  return {
    'spark.extraListeners': 'io.openlineage.spark.agent.OpenLineageSparkListener',
    'spark.openlineage.namespace': 'lakehouse',
    'spark.openlineage.transport.type': 'file',
    'spark.openlineage.transport.location': DRIVER_LINEAGE_FILE,
    'spark.lakehouse.lineage.uri': uri,
  };
}
