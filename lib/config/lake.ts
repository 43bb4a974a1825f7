import type { DeployableConfig, EnvironmentConfig } from './environments';

/**
 * The buckets of the lake (README.md#the-lake). CDK creates them and the local platform creates the same names in
 * the emulator, both from this list.
 */
export const LAKE_ZONES = ['raw', 'curated', 'gold', 'quarantine', 'scripts', 'dags', 'access-logs'] as const;
export type LakeZone = (typeof LAKE_ZONES)[number];

/** What a bucket's name is made of. */
export type BucketNaming = Pick<EnvironmentConfig, 'name' | 'prefix' | 'account' | 'region'>;

/** Globally unique bucket name: `<prefix>-<zone>-<account>-<region>` in AWS, `<prefix>-<zone>` locally. */
export function bucketName(env: BucketNaming, zone: LakeZone): string {
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

/** What a replica bucket's name is made of; `name` only names the environment when it has no replicaRegion. */
export type ReplicaNaming = Pick<DeployableConfig, 'name' | 'prefix' | 'account' | 'replicaRegion'>;

/** Bucket of the replica region: `<prefix>-<zone>-replica-<account>-<replica region>`. */
export function replicaBucketName(env: ReplicaNaming, zone: LakeZone): string {
  if (!env.replicaRegion) throw new Error(`${env.name} has no replicaRegion`);
  return `${env.prefix}-${zone}-replica-${env.account}-${env.replicaRegion}`;
}

/** Alias of the KMS key in the replica region that encrypts the replicas. */
export function replicaKeyAlias(env: Pick<EnvironmentConfig, 'prefix'>): string {
  return `alias/${env.prefix}-lake-replica`;
}

/** The Glue database that catalogs every zone. */
export function glueDatabaseName(env: Pick<EnvironmentConfig, 'prefix'>): string {
  return env.prefix.replace(/-/g, '_');
}

// Names the sink handler and the CDK must agree on live on the runtime side, which imports nothing.
export {
  FAILED_BATCHES_PREFIX,
  QUARANTINE_CURATED_PREFIX,
  QUARANTINE_SINK_PREFIX,
  REPLAYED_PREFIX,
  rawTableName,
} from '../../lambdas/shared/lake-layout';
