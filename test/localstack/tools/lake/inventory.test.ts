import { CreateDatabaseCommand, CreateTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { countIceberg } from '../../../../localstack/tools/lake/inventory';
import { awsClientConfig, createTestBucket, uniqueName } from '../../../support/services';

/**
 * npm start's summary of an Iceberg lake: the Glue database's Iceberg tables located in a zone, counted from
 * the current snapshot of the metadata file each table's `metadata_location` names (Iceberg table spec v2).
 */
describe('countIceberg', () => {
  const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
  const glue = new GlueClient(awsClientConfig());
  afterAll(() => {
    s3.destroy();
    glue.destroy();
  });

  /** A Glue table as Iceberg's GlueCatalog registers it, with a metadata file of two snapshots. */
  async function icebergTable(
    database: string,
    bucket: string,
    location: string,
    name: string,
    current: number,
  ) {
    const snapshot = (id: number, files: number, records: number) => ({
      'snapshot-id': id,
      'timestamp-ms': 1_700_000_000_000 + id,
      summary: {
        operation: 'overwrite',
        'total-data-files': String(files),
        'total-records': String(records),
      },
    });
    const key = `${location}/metadata/00001-${name}.metadata.json`;
    const metadata = {
      'format-version': 2,
      location: `s3://${bucket}/${location}`,
      'current-snapshot-id': current,
      // Listed out of order: the current snapshot counts, not the last one listed.
      snapshots: [snapshot(2, 3, 300), snapshot(1, 1, 100)],
    };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(metadata) }));
    await glue.send(
      new CreateTableCommand({
        DatabaseName: database,
        TableInput: {
          Name: name,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { table_type: 'ICEBERG', metadata_location: `s3://${bucket}/${key}` },
          StorageDescriptor: { Location: `s3://${bucket}/${location}` },
        },
      }),
    );
  }

  test('sums the current snapshots of the Iceberg tables under the prefix, and only those', async () => {
    const bucket = await createTestBucket('iceberg');
    const database = uniqueName('lake').replace(/-/g, '_');
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
    await icebergTable(database, bucket, 'curated/iceberg/orders', 'quarantine_curated_orders', 1);
    await icebergTable(database, bucket, 'curated/_unreadable_files/iceberg/orders', 'unreadable_orders', 2);
    await icebergTable(database, bucket, 'sink/iceberg/orders', 'elsewhere', 2);
    // A Delta table registered in the same zone is not an Iceberg table.
    await glue.send(
      new CreateTableCommand({
        DatabaseName: database,
        TableInput: {
          Name: 'delta_orders',
          Parameters: { table_type: 'DELTA' },
          StorageDescriptor: { Location: `s3://${bucket}/curated/orders` },
        },
      }),
    );

    expect(await countIceberg(s3, glue, database, bucket, 'curated/')).toEqual({
      files: 1 + 3,
      rows: 100 + 300,
      tables: ['quarantine_curated_orders', 'unreadable_orders'],
    });
  });
});
