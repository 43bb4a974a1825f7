import { App, aws_kms as kms, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { IcebergTableOptimizers } from '../../../lib/constructs/iceberg-table-optimizers';
import { s3ActionsOn } from './spark-stack';

describe('IcebergTableOptimizers', () => {
  const stack = new Stack(new App(), 'Lake', { env: { account: '123456789012', region: 'eu-west-1' } });
  const curated = new s3.Bucket(stack, 'Curated');
  const quarantine = new s3.Bucket(stack, 'Quarantine');
  new IcebergTableOptimizers(stack, 'Optimizers', {
    databaseName: 'lake',
    tables: [
      { name: 'curated_orders', bucket: curated, prefix: 'iceberg' },
      { name: 'quarantine_curated_orders', bucket: quarantine, prefix: 'curated/iceberg' },
    ],
    lakeKey: new kms.Key(stack, 'Key'),
    snapshotRetentionDays: 7,
  });
  const template = Template.fromStack(stack);

  test('compaction, snapshot retention and orphan-file deletion on every table, enabled, run by the role', () => {
    template.resourceCountIs('AWS::Glue::TableOptimizer', 6);
    for (const table of ['curated_orders', 'quarantine_curated_orders']) {
      for (const type of ['compaction', 'retention', 'orphan_file_deletion']) {
        template.hasResourceProperties('AWS::Glue::TableOptimizer', {
          CatalogId: '123456789012',
          DatabaseName: 'lake',
          TableName: table,
          Type: type,
          TableOptimizerConfiguration: {
            Enabled: true,
            RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OptimizersRole'), 'Arn'] },
          },
        });
      }
    }
    template.hasResourceProperties('AWS::Glue::TableOptimizer', {
      Type: 'retention',
      TableOptimizerConfiguration: {
        RetentionConfiguration: {
          IcebergConfiguration: { SnapshotRetentionPeriodInDays: 7, CleanExpiredFiles: true },
        },
      },
    });
    template.hasResourceProperties('AWS::Glue::TableOptimizer', {
      Type: 'orphan_file_deletion',
      TableOptimizerConfiguration: {
        OrphanFileDeletionConfiguration: { IcebergConfiguration: { OrphanFileRetentionPeriodInDays: 7 } },
      },
    });
  });

  test('Glue assumes the role; it rewrites the Iceberg files only, and commits the named tables only', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Principal: { Service: 'glue.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
    });
    const policies = template.findResources('AWS::IAM::Policy');
    const write = ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'];
    expect(s3ActionsOn(policies, '/iceberg/*')).toEqual(write);
    expect(s3ActionsOn(policies, '/curated/iceberg/*')).toEqual(write);
    const text = JSON.stringify(policies);
    expect(text).toContain(':table/lake/curated_orders');
    expect(text).toContain(':table/lake/quarantine_curated_orders');
    expect(text).not.toContain(':table/lake/*');
    expect(text).toContain('kms:Decrypt');
  });
});
