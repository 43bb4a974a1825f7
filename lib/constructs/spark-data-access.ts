import { aws_iam as iam, type aws_kms as kms, Stack, type aws_s3 as s3 } from 'aws-cdk-lib';
import type { TableFormat } from '../config/environments';
import { QUARANTINE_CURATED_PREFIX } from '../config/lake';
import { SCRIPT_PREFIXES } from '../config/spark-jobs';
import { allowWildcards, objectsUnder } from '../nag';

/** Lake zones the Spark jobs touch (the data lake's buckets). */
export interface SparkBuckets {
  readonly raw: s3.IBucket;
  readonly curated: s3.IBucket;
  readonly gold: s3.IBucket;
  readonly quarantine: s3.IBucket;
  /** Scripts, schemas, job state (bookmarks, run summaries), lineage and temporary files. */
  readonly scripts: s3.IBucket;
}

/** What a Spark job role may touch: the lake's buckets, its key and catalog database. */
export interface SparkDataAccess {
  readonly buckets: SparkBuckets;
  readonly lakeKey: kms.IKey;
  readonly glueDatabase: string;
}

/** Names of the buckets, for the shared job arguments (lib/config/spark-jobs.ts). */
export function bucketNames(buckets: SparkBuckets) {
  return {
    raw: buckets.raw.bucketName,
    curated: buckets.curated.bucketName,
    gold: buckets.gold.bucketName,
    quarantine: buckets.quarantine.bucketName,
    scripts: buckets.scripts.bucketName,
  };
}

/**
 * The same least-privilege data permissions for every Spark runtime's role: read raw and the deployed
 * scripts; write curated, gold, the curated quarantine table, job state, lineage and temporary files; the
 * tables of the lakehouse database; the lake key. Iceberg tables (`<zone>/iceberg/<table>`, committed by
 * updating their Glue table) need nothing more, apart from deleting a Glue table: the migration from Delta
 * (glue-scripts/migrate_table_format.py) unregisters each Delta table it has copied.
 */
export function grantSparkData(
  role: iam.Role,
  access: SparkDataAccess,
  tableFormat: TableFormat = 'delta',
): void {
  const { buckets } = access;
  const { partition, region, account } = Stack.of(role);
  const statement = (actions: string[], resources: string[]) =>
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  const write = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
  statement(
    ['s3:ListBucket'],
    Object.values(buckets).map((b) => b.bucketArn),
  );
  statement(['s3:GetObject'], [buckets.raw.arnForObjects('*'), buckets.scripts.arnForObjects('spark/*')]);
  statement(write, [
    buckets.curated.arnForObjects('*'),
    buckets.gold.arnForObjects('*'),
    buckets.quarantine.arnForObjects(`${QUARANTINE_CURATED_PREFIX}/*`),
    buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.state}/*`),
    buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.temp}/*`),
  ]);
  // Lineage events are written once, never rewritten.
  statement(['s3:PutObject'], [buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.lineage}/*`)]);
  access.lakeKey.grant(role, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
  const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
  statement(
    [
      'glue:GetDatabase',
      'glue:GetTable',
      'glue:GetTables',
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:BatchGetPartition',
      'glue:CreateTable',
      'glue:UpdateTable',
      'glue:BatchCreatePartition',
      ...(tableFormat === 'iceberg' ? ['glue:DeleteTable'] : []),
    ],
    [
      glueArn('catalog'),
      glueArn(`database/${access.glueDatabase}`),
      glueArn(`table/${access.glueDatabase}/*`),
    ],
  );
  allowWildcards(role, [
    {
      finding: objectsUnder(
        `${QUARANTINE_CURATED_PREFIX}/`,
        'spark/',
        `${SCRIPT_PREFIXES.state}/`,
        `${SCRIPT_PREFIXES.temp}/`,
        `${SCRIPT_PREFIXES.lineage}/`,
      ),
      reason:
        'Curated quarantine table, the deployed scripts, job state, lineage and temporary files: prefix-scoped.',
    },
    {
      finding: /^Resource::[^/]*Lake(raw|curated|gold)[^/]*\/\*$/,
      reason: 'Spark reads every raw object and rewrites whole Delta tables of the curated and gold zones.',
    },
    {
      finding: new RegExp(`^Resource::arn:[^:]+:glue:[^:]+:[^:]+:table/${access.glueDatabase}/\\*$`),
      reason: 'Tables of the lakehouse database only (gold tables are registered by the gold job).',
    },
  ]);
}
