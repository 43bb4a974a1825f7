import { aws_kms as kms, RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { REPLICATED_ZONES, type ReplicaNaming, replicaBucketName, replicaKeyAlias } from '../config/lake';
import { type BucketRetention, lakeBucketDefaults } from './data-lake';

/** What the replica reads of an environment: its buckets' names and key alias, and their retention. */
export type LakeReplicaConfig = ReplicaNaming & { readonly lake: BucketRetention };

export interface LakeReplicaProps {
  /** Names the buckets (replicaBucketName) and the key (replicaKeyAlias); `lake` sets their retention. */
  readonly config: LakeReplicaConfig;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The replica region's half of the lake's replication: a KMS key of that region (alias replicaKeyAlias) and
 * one bucket per replicated zone (named replicaBucketName), secured like the primary's, with their own access
 * logs. The primary's DataLake replicates into them; a restore copies back (runbooks/region-restore.md).
 */
export class LakeReplica extends Construct {
  readonly key: kms.Key;
  readonly buckets: Record<string, s3.Bucket> = {};

  constructor(scope: Construct, id: string, props: LakeReplicaProps) {
    super(scope, id);
    const { config, removalPolicy } = props;
    const { common, expireOldVersions, expireAccessLogs } = lakeBucketDefaults(config.lake, removalPolicy);
    this.key = new kms.Key(this, 'Key', {
      alias: replicaKeyAlias(config),
      description: `Encrypts the ${config.prefix} lake replica`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessLogs = new s3.Bucket(this, 'access-logs', {
      ...common,
      bucketName: replicaBucketName(config, 'access-logs'),
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [expireOldVersions, expireAccessLogs],
    });
    for (const zone of REPLICATED_ZONES) {
      this.buckets[zone] = new s3.Bucket(this, zone, {
        ...common,
        bucketName: replicaBucketName(config, zone),
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        bucketKeyEnabled: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${zone}/`,
        lifecycleRules: [expireOldVersions],
      });
    }
  }
}
