import { Duration, aws_iam as iam, aws_kms as kms, RemovalPolicy, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DeployableConfig } from '../config/environments';
import {
  type BucketNaming,
  bucketName,
  LAKE_ZONES,
  type LakeZone,
  REPLICATED_ZONES,
  type ReplicaNaming,
  replicaBucketName,
  replicaKeyAlias,
} from '../config/lake';
import { allowWildcards } from '../nag';

/** How long every bucket of the lake keeps old versions and access logs (an environment's `lake`). */
export type BucketRetention = Pick<
  DeployableConfig['lake'],
  'noncurrentVersionExpirationDays' | 'accessLogExpirationDays'
>;

/** The buckets' lifecycle: their retention, and when raw objects move to colder storage classes. */
export type LakeLifecycle = BucketRetention &
  Pick<DeployableConfig['lake'], 'rawInfrequentAccessDays' | 'rawGlacierDays'>;

/** What the lake reads of an environment: its buckets' names, their lifecycle, and the replica region. */
export type LakeConfig = BucketNaming & ReplicaNaming & { readonly lake: LakeLifecycle };

export interface DataLakeProps {
  /**
   * Names the buckets (bucketName) and the key (`alias/<prefix>-lake`); sets the buckets' lifecycle (`lake`);
   * with a `replicaRegion`, the data zones replicate to the buckets named replicaBucketName there.
   */
  readonly config: LakeConfig;
  readonly removalPolicy: RemovalPolicy;
}

/** Settings every bucket of the lake shares, in the primary and in the replica region. */
export function lakeBucketDefaults(lake: BucketRetention, removalPolicy: RemovalPolicy) {
  return {
    common: {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    },
    expireOldVersions: {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(lake.noncurrentVersionExpirationDays),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    },
    expireAccessLogs: { id: 'expire-access-logs', expiration: Duration.days(lake.accessLogExpirationDays) },
  } as const satisfies {
    common: s3.BucketProps;
    expireOldVersions: s3.LifecycleRule;
    expireAccessLogs: s3.LifecycleRule;
  };
}

/**
 * The buckets of README.md#the-lake, one per zone of LAKE_ZONES. Every data bucket: SSE-KMS with the lake key (bucket
 * keys on), TLS-only policy, public access blocked, versioning, lifecycle, server access logs into the
 * access-logs bucket (which S3 requires to use SSE-S3: log delivery cannot encrypt with a KMS key).
 */
export class DataLake extends Construct {
  readonly key: kms.Key;
  readonly buckets: Readonly<Record<LakeZone, s3.Bucket>>;

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    const { config, removalPolicy } = props;
    const { lake } = config;
    this.key = new kms.Key(this, 'Key', {
      alias: `alias/${config.prefix}-lake`,
      description: `Encrypts the ${config.prefix} data lake`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const { common, expireOldVersions, expireAccessLogs } = lakeBucketDefaults(lake, removalPolicy);

    const accessLogs = new s3.Bucket(this, 'access-logs', {
      ...common,
      bucketName: bucketName(config, 'access-logs'),
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [expireOldVersions, expireAccessLogs],
    });

    const lifecycle: Partial<Record<LakeZone, s3.LifecycleRule[]>> = {
      raw: [
        {
          id: 'tier-raw',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(lake.rawInfrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(lake.rawGlacierDays),
            },
          ],
        },
      ],
    };
    const buckets = { 'access-logs': accessLogs } as Record<LakeZone, s3.Bucket>;
    for (const zone of LAKE_ZONES.filter((z) => z !== 'access-logs')) {
      buckets[zone] = new s3.Bucket(this, zone, {
        ...common,
        bucketName: bucketName(config, zone),
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        bucketKeyEnabled: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${zone}/`,
        lifecycleRules: [expireOldVersions, ...(lifecycle[zone] ?? [])],
      });
    }
    this.buckets = buckets;
    if (config.replicaRegion) this.replicate(config, config.replicaRegion);
  }

  /**
   * S3 replication of the data zones into the replica region's buckets (LakeReplica, deployed first), with
   * replication time control (15 minutes) and re-encryption under the replica region's key. Deletions are
   * not replicated: a delete in the primary, by mistake or by an attacker, leaves the replica whole.
   */
  private replicate(config: ReplicaNaming, replicaRegion: string): void {
    const { partition, account, region } = Stack.of(this);
    const role = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: `Replicates the lake to ${replicaRegion}`,
    });
    const replicaArn = (zone: LakeZone) => `arn:${partition}:s3:::${replicaBucketName(config, zone)}`;
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    const sources = REPLICATED_ZONES.map((zone) => this.buckets[zone]);
    allow(
      ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      sources.map((b) => b.bucketArn),
    );
    allow(
      ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
      sources.map((b) => b.arnForObjects('*')),
    );
    allow(
      ['s3:ReplicateObject', 's3:ReplicateTags'],
      REPLICATED_ZONES.map((zone) => `${replicaArn(zone)}/*`),
    );
    allow(['kms:Decrypt'], [this.key.keyArn], {
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
    });
    // The replica key's id is not known here (another region's stack); its alias names it.
    allow(
      ['kms:Encrypt', 'kms:GenerateDataKey'],
      [`arn:${partition}:kms:${replicaRegion}:${account}:key/*`],
      {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': replicaKeyAlias(config) },
        StringEquals: { 'kms:ViaService': `s3.${replicaRegion}.amazonaws.com` },
      },
    );
    allowWildcards(role, [
      {
        finding: /^Resource::.*Lake(raw|curated|gold|quarantine).*\.Arn>?\/\*$|^Resource::.*-replica-.*\/\*$/,
        reason: 'Replication reads every object version of the data zones and writes them to their replicas.',
      },
      {
        finding:
          /^Resource::arn:<AWS::Partition>:kms:[^:]+:<AWS::AccountId>:key\/\*$|^Resource::arn:[^:]+:kms:[^:]+:\d+:key\/\*$/,
        reason: 'The replica key of the other region, limited by its alias (kms:ResourceAliases) and to S3.',
      },
    ]);
    for (const zone of REPLICATED_ZONES) {
      const cfn = this.buckets[zone].node.defaultChild as s3.CfnBucket;
      cfn.replicationConfiguration = {
        role: role.roleArn,
        rules: [
          {
            id: `to-${replicaRegion}`,
            status: 'Enabled',
            priority: 0,
            filter: { prefix: '' },
            deleteMarkerReplication: { status: 'Disabled' },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
            destination: {
              bucket: replicaArn(zone),
              encryptionConfiguration: {
                replicaKmsKeyId: `arn:${partition}:kms:${replicaRegion}:${account}:${replicaKeyAlias(config)}`,
              },
              replicationTime: { status: 'Enabled', time: { minutes: 15 } },
              metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
            },
          },
        ],
      };
    }
  }
}
