import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateDatabaseCommand, CreateTableCommand, type GlueClient } from '@aws-sdk/client-glue';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ConsumedMessage } from '../../../lambdas/sink/msk-event';
import { rawTableName } from '../../../lib/config/lake';
import { financialTransactions, type IngestMetadata, ingestHeaders, topicOf } from '../../../schemas';

export const TOPIC = topicOf(financialTransactions);

export function transaction(id: string, timestamp: string, amount = 125.5): Record<string, unknown> {
  return {
    transaction_id: id,
    timestamp,
    account_id: 'acc-42',
    amount,
    currency: 'USD',
    transaction_type: 'debit',
    merchant_id: null,
    category: 'groceries',
  };
}

/** The headers the ingest Lambda puts on a record's message (its value is the record's JSON). */
export function ingestedHeaders(metadata: Partial<IngestMetadata> = {}): Record<string, string> {
  return ingestHeaders({
    dataset: financialTransactions.name,
    schema_version: financialTransactions.schemaVersion,
    ingest_time: '2024-01-15T10:31:00.000001Z',
    request_id: 'req-1',
    ...metadata,
  });
}

/** A message as the ingest Lambda produces it: `value` is the record's JSON text, ingest headers. */
export function message(
  offset: number,
  value: string | null,
  overrides: Partial<ConsumedMessage> = {},
): ConsumedMessage {
  return {
    topic: TOPIC,
    partition: 0,
    offset,
    timestamp: Date.UTC(2024, 0, 15, 10, 31),
    key: `txn-${offset}`,
    value,
    headers: ingestedHeaders(),
    ...overrides,
  };
}

/**
 * Runs a query over Parquet files with DuckDB (`{files}` in the SQL stands for the list of files), with the
 * session in UTC so timestamps print as the instants they are.
 */
export async function queryParquet(
  files: readonly Uint8Array[],
  sql: string,
): Promise<Record<string, unknown>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sink-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const paths = files.map((body, i) => {
      const path = join(dir, `${i}.parquet`);
      writeFileSync(path, body);
      return `'${path}'`;
    });
    await connection.run(`SET TimeZone = 'UTC'`);
    const reader = await connection.runAndReadAll(sql.replaceAll('{files}', `[${paths.join(', ')}]`));
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Glue database with the raw table of financial_transactions, as CDK creates it (partitions by the sink). */
export async function createRawCatalog(glue: GlueClient, database: string, rawBucket: string): Promise<void> {
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await glue.send(
    new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: rawTableName(financialTransactions.name),
        PartitionKeys: [
          { Name: 'event_date', Type: 'string' },
          { Name: 'event_hour', Type: 'string' },
        ],
        StorageDescriptor: {
          Location: `s3://${rawBucket}/${financialTransactions.name}/`,
          InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    }),
  );
}
