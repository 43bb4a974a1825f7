import {
  BatchCreatePartitionCommand,
  GetTableCommand,
  type GlueClient,
  type StorageDescriptor,
} from '@aws-sdk/client-glue';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { rawTableName } from '../shared/lake-layout';
import type { CatalogRegistrar, ObjectWriter } from './core';
import { rawPartitionPrefix } from './keys';

export function s3Writer(s3: S3Client): ObjectWriter {
  return {
    async put({ bucket, key, body, contentType, metadata }) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          Metadata: metadata,
        }),
      );
    },
  };
}

const GLUE_BATCH_LIMIT = 100; // BatchCreatePartition takes at most 100 partitions per call

/**
 * Registers raw partitions in the Glue Data Catalog. A partition inherits the table's storage descriptor
 * (columns, Parquet SerDe) with its own location, so the columns are defined once, by the table CDK creates.
 * Partitions this container registered (or found existing) are remembered, so Glue is called about once
 * per dataset and hour.
 */
export function glueCatalog(glue: GlueClient, database: string, rawBucket: string): CatalogRegistrar {
  const known = new Set<string>();
  const descriptors = new Map<string, StorageDescriptor>();

  async function descriptorOf(table: string): Promise<StorageDescriptor> {
    let descriptor = descriptors.get(table);
    if (!descriptor) {
      const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
      descriptor = Table?.StorageDescriptor ?? {};
      descriptors.set(table, descriptor);
    }
    return descriptor;
  }

  return {
    async registerPartitions(dataset, partitions) {
      const table = rawTableName(dataset);
      const todo = partitions.filter((p) => !known.has(`${table}/${p.date}/${p.hour}`));
      if (todo.length === 0) return;
      const descriptor = await descriptorOf(table);
      for (let i = 0; i < todo.length; i += GLUE_BATCH_LIMIT) {
        const chunk = todo.slice(i, i + GLUE_BATCH_LIMIT);
        const { Errors = [] } = await glue.send(
          new BatchCreatePartitionCommand({
            DatabaseName: database,
            TableName: table,
            PartitionInputList: chunk.map(({ date, hour }) => ({
              Values: [date, hour],
              StorageDescriptor: {
                ...descriptor,
                Location: `s3://${rawBucket}/${rawPartitionPrefix(dataset, date, hour)}`,
              },
            })),
          }),
        );
        const failed = Errors.filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
        if (failed.length > 0) {
          throw new Error(
            `Glue refused partitions of ${database}.${table}: ${failed
              .map(
                (e) =>
                  `${e.PartitionValues?.join('/')}: ${e.ErrorDetail?.ErrorCode} ${e.ErrorDetail?.ErrorMessage}`,
              )
              .join('; ')}`,
          );
        }
        for (const { date, hour } of chunk) known.add(`${table}/${date}/${hour}`);
      }
    },
  };
}
