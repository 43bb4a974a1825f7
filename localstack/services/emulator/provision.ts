import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GlueClient,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { EnvironmentConfig } from '../../../lib/config/environments';
import { bucketName, glueDatabaseName, LAKE_ZONES, rawTableName } from '../../../lib/config/lake';
import { DATASETS, type DatasetDefinition } from '../../../schemas';
import { rawTableInput } from '../../../schemas/glue';

/** What every client of the local emulator uses: emulators accept any key pair. */
export function emulatorClientConfig(endpoint: string, region: string) {
  return { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
}

/**
 * Creates the lake in the emulator from the definitions the CDK stacks use (lib/config/lake.ts): one
 * bucket per zone, the Glue database and its raw tables (the sink registers partitions in them). Idempotent.
 */
export async function provisionLake(
  env: EnvironmentConfig,
  endpoint: string,
): Promise<{ buckets: string[]; database: string; catalog: string }> {
  const s3 = new S3Client(emulatorClientConfig(endpoint, env.region));
  const glue = new GlueClient(emulatorClientConfig(endpoint, env.region));
  try {
    const buckets = LAKE_ZONES.map((zone) => bucketName(env, zone));
    for (const bucket of buckets) {
      const exists = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
        () => true,
        () => false,
      );
      if (!exists) {
        // us-east-1 is the one region that rejects an explicit location constraint.
        const location = env.region as BucketLocationConstraint;
        const configuration = env.region === 'us-east-1' ? undefined : { LocationConstraint: location };
        await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: configuration }));
      }
    }
    const database = glueDatabaseName(env);
    const catalog = await provisionCatalog(glue, database, bucketName(env, 'raw'));
    return { buckets, database, catalog };
  } finally {
    s3.destroy();
    glue.destroy();
  }
}

/**
 * The Glue database and one raw table per dataset, pointing at rawBucket. Idempotent; an existing table is
 * updated, as a CDK deploy updates it (a field added to a dataset becomes a column). Tests call it for a
 * private database and bucket.
 */
export async function provisionCatalog(
  glue: GlueClient,
  database: string,
  rawBucket: string,
  datasets: readonly DatasetDefinition[] = DATASETS,
): Promise<'created' | 'existing' | `unavailable (${string})`> {
  const catalog = await glue
    .send(
      new CreateDatabaseCommand({
        DatabaseInput: { Name: database, Description: 'Lakehouse catalog (local)' },
      }),
    )
    .then(
      () => 'created' as const,
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        if (error.name === 'AlreadyExistsException') return 'existing' as const;
        // LocalStack's open-source edition has no Glue: the lake works, the catalog does not.
        if (error.$metadata?.httpStatusCode === 501) return `unavailable (${error.message})` as const;
        throw error;
      },
    );
  if (catalog === 'created' || catalog === 'existing') {
    for (const def of datasets) await putRawTable(glue, database, def, rawBucket);
  }
  return catalog;
}

/** The raw table exactly as the CDK declares it (schemas/glue.ts), in the SDK's PascalCase shape. */
async function putRawTable(
  glue: GlueClient,
  database: string,
  def: DatasetDefinition,
  rawBucket: string,
): Promise<void> {
  const t = rawTableInput(def, rawTableName(def.name), `s3://${rawBucket}/${def.name}`);
  const column = (c: { name: string; type: string; comment: string }) => ({
    Name: c.name,
    Type: c.type,
    Comment: c.comment,
  });
  const table = {
    DatabaseName: database,
    TableInput: {
      Name: t.name,
      TableType: t.tableType,
      Description: t.description,
      PartitionKeys: t.partitionKeys.map(column),
      Parameters: t.parameters,
      StorageDescriptor: {
        Location: t.storageDescriptor.location,
        Columns: t.storageDescriptor.columns.map(column),
        InputFormat: t.storageDescriptor.inputFormat,
        OutputFormat: t.storageDescriptor.outputFormat,
        SerdeInfo: { SerializationLibrary: t.storageDescriptor.serdeInfo.serializationLibrary },
      },
    },
  };
  await glue.send(new CreateTableCommand(table)).catch(async (error: Error) => {
    if (error.name !== 'AlreadyExistsException') throw error;
    await glue.send(new UpdateTableCommand(table));
  });
}
