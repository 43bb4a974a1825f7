import { Duration, aws_kms as kms, RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { bucketName, LAKE_ZONES, type LakeZone } from '../config/lake';

export interface DataLakeProps {
  readonly config: EnvironmentConfig;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The buckets of SPEC §6, one per zone of LAKE_ZONES. Every data bucket: SSE-KMS with the lake key (bucket
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
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: destroy,
    } as const;
    const expireOldVersions: s3.LifecycleRule = {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(lake.noncurrentVersionExpirationDays),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    };

    const accessLogs = new s3.Bucket(this, 'access-logs', {
      ...common,
      bucketName: bucketName(config, 'access-logs'),
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        expireOldVersions,
        { id: 'expire-access-logs', expiration: Duration.days(lake.accessLogExpirationDays) },
      ],
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
  }
}
