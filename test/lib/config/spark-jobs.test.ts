import { environmentConfig } from '../../../lib/config/environments';
import { SCRIPT_PREFIXES, sparkJobArguments } from '../../../lib/config/spark-jobs';
import { LOCAL_SPARK_BUCKETS, localJobArguments } from '../../../localstack/tools/spark/run';

describe('sparkJobArguments: one layout for Glue, EMR and the local runner', () => {
  test('the local runner keeps job state where the CDK does (spark/state of the scripts bucket)', () => {
    const args = sparkJobArguments(LOCAL_SPARK_BUCKETS, environmentConfig('local'));
    expect(args['--state_uri']).toBe(`s3://lakehouse-local-scripts/${SCRIPT_PREFIXES.state}`);
    expect(args).toMatchObject({
      '--raw_uri': 's3://lakehouse-local-raw',
      '--curated_uri': 's3://lakehouse-local-curated',
      '--gold_uri': 's3://lakehouse-local-gold',
      '--quarantine_uri': 's3://lakehouse-local-quarantine/curated',
      '--min_group_count': '5',
      '--max_rejected_share': '0.001',
    });
  });

  test('other buckets (the drill) move every URI', () => {
    const buckets = { raw: 'r', curated: 'c', gold: 'g', quarantine: 'q', scripts: 's' };
    const uris = Object.values(sparkJobArguments(buckets, environmentConfig('dev'))).filter((v) =>
      v.startsWith('s3://'),
    );
    expect(uris.every((uri) => /^s3:\/\/[rcgqs](\/|$)/.test(uri))).toBe(true);
  });
});

describe('the table format reaches every job run', () => {
  test('the local runner passes --table_format iceberg and the emulator’s Glue database of the tables', () => {
    expect(localJobArguments('financial_transactions', 'iceberg')).toMatchObject({
      '--dataset': 'financial_transactions',
      '--table_format': 'iceberg',
      '--catalog_database': 'lakehouse_local',
      '--curated_uri': 's3://lakehouse-local-curated',
    });
  });

  test('Delta, the jobs’ default, adds no argument (Delta environments deploy what they did before Iceberg)', () => {
    const args = localJobArguments('financial_transactions', 'delta');
    expect(args['--table_format']).toBeUndefined();
    expect(args['--catalog_database']).toBeUndefined();
    expect(sparkJobArguments(LOCAL_SPARK_BUCKETS, environmentConfig('prod'))).not.toHaveProperty(
      '--table_format',
    );
  });
});
