import { aws_glue as glue, aws_iam as iam, type aws_kms as kms, Stack, type aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { allowWildcards } from '../nag';

/** An Iceberg table of the database and where its files are (`<zone>/iceberg/<name>`, table_format/iceberg.py). */
export interface IcebergTableLocation {
  readonly name: string;
  readonly bucket: s3.IBucket;
  /** Key prefix of the zone's Iceberg tables, ending in `iceberg`. */
  readonly prefix: string;
}

export interface IcebergTableOptimizersProps {
  readonly databaseName: string;
  /** Existing Iceberg tables (a table optimizer cannot be created for a table that does not exist). */
  readonly tables: readonly IcebergTableLocation[];
  readonly lakeKey: kms.IKey;
  /** Snapshots older than this are expired, as maintenance.py's --retention_hours 168 does locally. */
  readonly snapshotRetentionDays: number;
}

const OPTIMIZERS = ['compaction', 'retention', 'orphan_file_deletion'] as const;

/**
 * The Glue Data Catalog's table optimizers of Iceberg tables: compaction, snapshot retention (deleting the
 * files only expired snapshots needed) and orphan-file deletion, run by Glue with a role of their own that
 * may rewrite the tables' files and commit them.
 */
export class IcebergTableOptimizers extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: IcebergTableOptimizersProps) {
    super(scope, id);
    const { partition, region, account } = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue Data Catalog table optimizers of the Iceberg tables',
    });
    const statement = (actions: string[], resources: string[]) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    const buckets = [...new Set(props.tables.map((t) => t.bucket))];
    statement(
      ['s3:ListBucket'],
      buckets.map((b) => b.bucketArn),
    );
    const prefixes = [...new Set(props.tables.map((t) => t.bucket.arnForObjects(`${t.prefix}/*`)))];
    statement(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], prefixes);
    props.lakeKey.grant(this.role, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
    statement(
      ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'],
      [
        glueArn('catalog'),
        glueArn(`database/${props.databaseName}`),
        ...props.tables.map((t) => glueArn(`table/${props.databaseName}/${t.name}`)),
      ],
    );
    // Each optimizer logs to a group of its own: /aws-glue/iceberg-compaction/logs, -retention, -orphan-file-deletion.
    statement(
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      [`arn:${partition}:logs:${region}:${account}:log-group:/aws-glue/iceberg-*`],
    );
    allowWildcards(this.role, [
      {
        finding: /^Resource::.*\/iceberg\/\*$/,
        reason:
          'Files of the Iceberg tables only (<zone>/iceberg/), which the optimizers rewrite and delete.',
      },
      {
        finding: /^Resource::arn:[^:]+:logs:[^:]+:[^:]+:log-group:\/aws-glue\/iceberg-\*$/,
        reason: 'The log groups Glue names per optimizer type under /aws-glue/iceberg-.',
      },
    ]);

    for (const table of props.tables) {
      for (const type of OPTIMIZERS) {
        const optimizer = new glue.CfnTableOptimizer(this, `${table.name}-${type}`, {
          catalogId: account,
          databaseName: props.databaseName,
          tableName: table.name,
          type,
          tableOptimizerConfiguration: {
            enabled: true,
            roleArn: this.role.roleArn,
            ...(type === 'retention' && {
              retentionConfiguration: {
                icebergConfiguration: {
                  snapshotRetentionPeriodInDays: props.snapshotRetentionDays,
                  numberOfSnapshotsToRetain: 1,
                  cleanExpiredFiles: true,
                },
              },
            }),
            ...(type === 'orphan_file_deletion' && {
              orphanFileDeletionConfiguration: {
                icebergConfiguration: { orphanFileRetentionPeriodInDays: props.snapshotRetentionDays },
              },
            }),
          },
        });
        // Glue checks the role when the optimizer is created: its policy must be there first.
        optimizer.node.addDependency(this.role);
      }
    }
  }
}
