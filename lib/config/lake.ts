import type { EnvironmentConfig } from './environments';

/**
 * The buckets of the lake (SPEC §6). CDK creates them and the local platform creates the same names in
 * the emulator, both from this list.
 */
export const LAKE_ZONES = ['raw', 'curated', 'gold', 'quarantine', 'scripts', 'dags', 'access-logs'] as const;
export type LakeZone = (typeof LAKE_ZONES)[number];

/** Globally unique bucket name: `<prefix>-<zone>-<account>-<region>` in AWS, `<prefix>-<zone>` locally. */
export function bucketName(env: EnvironmentConfig, zone: LakeZone): string {
  return env.name === 'local'
    ? `${env.prefix}-${zone}`
    : `${env.prefix}-${zone}-${env.account}-${env.region}`;
}

/** Zones holding data, replicated to `replicaRegion` where configured (scripts and DAGs are code in git). */
export const REPLICATED_ZONES = [
  'raw',
  'curated',
  'gold',
  'quarantine',
] as const satisfies readonly LakeZone[];

/** Bucket of the replica region: `<prefix>-<zone>-replica-<account>-<replica region>`. */
export function replicaBucketName(env: EnvironmentConfig, zone: LakeZone): string {
  if (!env.replicaRegion) throw new Error(`${env.name} has no replicaRegion`);
  return `${env.prefix}-${zone}-replica-${env.account}-${env.replicaRegion}`;
}

/** Alias of the KMS key in the replica region that encrypts the replicas. */
export function replicaKeyAlias(env: EnvironmentConfig): string {
  return `alias/${env.prefix}-lake-replica`;
}

/** The Glue database that catalogs every zone. */
export function glueDatabaseName(env: EnvironmentConfig): string {
  return env.prefix.replace(/-/g, '_');
}

/**
 * The Glue table of a dataset's raw zone, in database `glueDatabaseName(env)`: CDK creates it, the sink
 * registers its partitions.
 */
export function rawTableName(dataset: string): string {
  return `raw_${dataset}`;
}

/**
 * Object layout inside the buckets, shared by the sink (TypeScript) and the Spark jobs (which receive
 * these prefixes as arguments):
 * - raw:        s3://<raw>/<dataset>/event_date=YYYY-MM-DD/event_hour=HH/<file>.parquet
 * - quarantine: s3://<quarantine>/sink/<dataset>/... (JSON lines)  and  s3://<quarantine>/curated/<dataset>/ (Delta)
 *               s3://<quarantine>/aws/lambda/... batches the event source mapping gave up on (its on-failure
 *               destination), moved to s3://<quarantine>/replayed/aws/lambda/... once `npm run replay` wrote them
 * - curated:    s3://<curated>/<dataset>/ (Delta)
 * - gold:       s3://<gold>/<table>/ (Delta)
 */
export const QUARANTINE_SINK_PREFIX = 'sink';
export const QUARANTINE_CURATED_PREFIX = 'curated';
/** Where Lambda writes batches the mapping gave up on (the S3 on-failure destination's own key layout). */
export const FAILED_BATCHES_PREFIX = 'aws/lambda';
/** Where `npm run replay` moves an on-failure record once its batch is in the raw zone. */
export const REPLAYED_PREFIX = 'replayed';
