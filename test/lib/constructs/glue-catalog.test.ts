import { App, RemovalPolicy, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { GlueCatalog } from '../../../lib/constructs/glue-catalog';
import { type DatasetDefinition, financialTransactions } from '../../../schemas';
import { financialTransactionsV2 } from '../../support/evolution';

const v2 = financialTransactionsV2;

function synth(definition: DatasetDefinition, tableFormat: 'delta' | 'iceberg' = 'delta'): Template {
  const stack = new Stack(new App(), 'Lake');
  const bucket = (id: string) => new s3.Bucket(stack, id);
  new GlueCatalog(stack, 'Catalog', {
    databaseName: 'lake',
    datasets: [definition],
    raw: bucket('Raw'),
    curated: bucket('Curated'),
    quarantine: bucket('Quarantine'),
    removalPolicy: RemovalPolicy.RETAIN,
    tableFormat,
  });
  return Template.fromStack(stack);
}

const rawColumnNames = (template: Template): string[] => {
  const [table] = Object.values(
    template.findResources('AWS::Glue::Table', {
      Properties: { TableInput: { Name: 'raw_financial_transactions' } },
    }),
  ) as { Properties: { TableInput: { StorageDescriptor: { Columns: { Name: string }[] } } } }[];
  return (table?.Properties.TableInput.StorageDescriptor.Columns ?? []).map((c) => c.Name);
};

describe('a compatible change reaches the Glue tables in the same deploy', () => {
  test('a new optional field is a column of the raw table (the union of every version’s columns)', () => {
    const before = rawColumnNames(synth(financialTransactions));
    const after = rawColumnNames(synth(v2));
    expect(before).not.toContain('channel');
    // The new column comes after the v1 fields (Parquet is read by name; order only matters to people).
    expect(after).toEqual([
      ...before.slice(0, before.indexOf('_ingest_time')),
      'channel',
      ...before.slice(before.indexOf('_ingest_time')),
    ]);
    synth(v2).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'raw_financial_transactions',
        StorageDescriptor: Match.objectLike({
          Columns: Match.arrayWith([
            { Name: 'channel', Type: 'string', Comment: 'Where the payment was made.' },
          ]),
        }),
      }),
    });
  });

  test('the curated table is Delta: its schema is the Delta log’s, which the curated job evolves', () => {
    synth(v2).hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'curated_financial_transactions',
        Parameters: Match.objectLike({ table_type: 'DELTA' }),
        StorageDescriptor: Match.objectLike({ Columns: Match.absent() }),
      }),
    });
  });
});

describe('the tables of an Iceberg environment', () => {
  const tableNames = (template: Template) =>
    Object.values(template.findResources('AWS::Glue::Table'))
      .map((t) => t.Properties.TableInput.Name)
      .sort();

  test('curated and curated quarantine are left to the curated job, which creates them as Iceberg tables', () => {
    expect(tableNames(synth(financialTransactions, 'iceberg'))).toEqual([
      'quarantine_sink_financial_transactions',
      'raw_financial_transactions',
    ]);
    expect(tableNames(synth(financialTransactions))).toEqual([
      'curated_financial_transactions',
      'quarantine_curated_financial_transactions',
      'quarantine_sink_financial_transactions',
      'raw_financial_transactions',
    ]);
  });
});
