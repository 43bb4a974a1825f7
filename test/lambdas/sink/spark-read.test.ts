import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type PutObject, sinkBatch } from '../../../lambdas/sink/core';
import { decodeMskEvent } from '../../../lambdas/sink/decode';
import { mskEvent } from '../../../lambdas/sink/msk-event';
import { hyparquetEncoder } from '../../../lambdas/sink/parquet';
import { createRegistry } from '../../../schemas';
import { ingestedHeaders, message, transaction } from './support';

/** PySpark (local mode, the Glue 5 Spark version) reads the sink's Parquet with the same values as DuckDB. */
const SPARK_READ = `
import json, sys
from pyspark.sql import SparkSession, functions as F
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
df = spark.read.parquet(sys.argv[1])
types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
rows = df.orderBy("_kafka_offset").select(
    "transaction_id", "amount", "merchant_id", "_kafka_offset", "_schema_version",
    F.date_format("timestamp", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX").alias("ts"),
    F.date_format("_ingest_time", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX").alias("ingest")).collect()
print(json.dumps({"types": types, "rows": [r.asDict() for r in rows]}))
spark.stop()
`;

it('is read by pyspark with microsecond UTC timestamps and exact values', async () => {
  const files: PutObject[] = [];
  await sinkBatch(
    decodeMskEvent(
      mskEvent(
        [
          message(1, JSON.stringify(transaction('a', '2024-01-15T10:30:00.123456', 125.5))),
          message(2, JSON.stringify(transaction('b', '2024-01-15T12:45:59.000001+02:00', -0.01)), {
            headers: ingestedHeaders({ ingest_time: '2024-01-15T10:46:00Z' }),
          }),
        ],
        { bootstrapServers: 'b' },
      ),
    ),
    {
      registry: createRegistry(),
      encoder: hyparquetEncoder,
      writer: { put: async (o) => void files.push(o) },
      catalog: { registerPartitions: async () => {} },
      clock: Date.now,
      settings: { rawBucket: 'raw', quarantineBucket: 'quarantine', glueDatabase: 'lake' },
    },
  );
  expect(files).toHaveLength(1);
  const dir = mkdtempSync(join(tmpdir(), 'sink-spark-'));
  try {
    const path = join(dir, 'part.parquet');
    writeFileSync(path, files[0]?.body ?? new Uint8Array());
    const output = execFileSync('.venv/bin/python', ['-c', SPARK_READ, path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const { types, rows } = JSON.parse(output.trim().split('\n').at(-1) ?? '{}');
    expect(types).toMatchObject({
      timestamp: 'timestamp',
      amount: 'double',
      _ingest_time: 'timestamp',
      _kafka_offset: 'bigint',
      _kafka_partition: 'int',
      _schema_version: 'int',
      _kafka_timestamp: 'timestamp',
    });
    expect(rows).toEqual([
      {
        transaction_id: 'a',
        amount: 125.5,
        merchant_id: null,
        _kafka_offset: 1,
        _schema_version: 1,
        ts: '2024-01-15T10:30:00.123456Z',
        ingest: '2024-01-15T10:31:00.000001Z',
      },
      {
        transaction_id: 'b',
        amount: -0.01,
        merchant_id: null,
        _kafka_offset: 2,
        _schema_version: 1,
        ts: '2024-01-15T10:45:59.000001Z',
        ingest: '2024-01-15T10:46:00.000000Z',
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

/** How raw_to_curated finds and reads raw files (glue-scripts/lakehouse_spark), over a local raw zone. */
const SPARK_LIST_AND_READ = `
import json, sys
sys.path.insert(0, "glue-scripts")
from lakehouse_spark.runtime import spark_session
from lakehouse_spark.listing import list_new_files
from lakehouse_spark.registry import load_dataset
spark = spark_session("late-file-listing")  # the jobs' own local session (Delta for the bookmark)
ds = load_dataset(spark, "financial_transactions")
files = [f.path for f in list_new_files(spark, sys.argv[1], sys.argv[2], 48, full=True).new]
df = spark.read.schema(ds.raw_schema()).parquet(*files)
print(json.dumps({"files": len(files), "rows": df.count(), "offsets": df.select("_kafka_offset").distinct().count()}))
spark.stop()
`;

it('raw_to_curated finds every record of a far-spread batch, late file included', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sink-late-'));
  const messages = Array.from({ length: 50 }, (_, i) =>
    message(i, JSON.stringify(transaction(`t${i}`, new Date(Date.UTC(2024, 0, 15, 10 - i)).toISOString()))),
  );
  try {
    const summary = await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), {
      registry: createRegistry(),
      encoder: hyparquetEncoder,
      writer: {
        put: async (o) => {
          const path = join(root, o.key);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, o.body);
        },
      },
      catalog: { registerPartitions: async () => {} },
      clock: Date.now,
      settings: { rawBucket: 'raw', quarantineBucket: 'quarantine', glueDatabase: 'lake', maxHourFiles: 3 },
    });
    expect(summary.rawFiles.map((f) => f.key).filter((k) => k.includes('/event_hour=late/'))).toHaveLength(1);
    const output = execFileSync(
      '.venv/bin/python',
      ['-c', SPARK_LIST_AND_READ, join(root, 'financial_transactions'), join(root, '_bookmark')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? '{}')).toEqual({ files: 4, rows: 50, offsets: 50 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 180_000);
