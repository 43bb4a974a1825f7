/**
 * Writes raw-zone Parquet with the REAL sink core (validation, Parquet encoder, deterministic keys, S3
 * writer on AWS_ENDPOINT_URL), so the Spark tests read exactly what the platform writes.
 *
 *   npx tsx test/glue-scripts/support/write-raw.ts <raw-bucket> <quarantine-bucket> <messages.jsonl> [batch-size]
 *
 * Each input line is one Kafka message as the event source mapping delivers it:
 * `{topic, partition, offset, timestamp (epoch ms), key, value, headers}`: value is the record's JSON text,
 * headers `[{name: text}]` carry the ingest metadata.
 * Messages are handed to the sink in batches of batch-size (default 1,000), like the mapping does. Prints
 * the sink summaries as JSON.
 */
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { hyparquetEncoder } from '../../../lambdas/shared/parquet';
import { s3Writer } from '../../../lambdas/sink/aws';
import { type KafkaRecord, sinkBatch } from '../../../lambdas/sink/core';
import { createRegistry } from '../../../schemas';

const DEFAULT_BATCH = 1_000;

async function main(): Promise<void> {
  const [rawBucket, quarantineBucket, file, batchArg] = process.argv.slice(2);
  const batch = batchArg ? Number(batchArg) : DEFAULT_BATCH;
  if (!rawBucket || !quarantineBucket || !file) {
    throw new Error('usage: write-raw.ts <raw-bucket> <quarantine-bucket> <messages.jsonl> [batch-size]');
  }
  const records: KafkaRecord[] = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as KafkaRecord);
  const s3 = new S3Client({});
  const deps = {
    registry: createRegistry(),
    writer: s3Writer(s3),
    // The Glue catalog is not what these tests are about; Spark reads the files by path.
    catalog: { registerPartitions: async () => {} },
    encoder: hyparquetEncoder,
    clock: Date.now,
    settings: { rawBucket, quarantineBucket, glueDatabase: 'unused' },
  };
  const summaries = [];
  try {
    for (let i = 0; i < records.length; i += batch) {
      const s = await sinkBatch(records.slice(i, i + batch), deps);
      summaries.push({
        records: s.records,
        written: s.written,
        quarantined: s.quarantined,
        files: s.rawFiles.length,
      });
    }
  } finally {
    s3.destroy();
  }
  process.stdout.write(`${JSON.stringify(summaries)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
