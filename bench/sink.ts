/**
 * `npm run bench:sink`: the sink's cost per batch, and the Parquet libraries compared on the real raw schema
 * of financial transactions. Each library runs in its own child process so its peak RSS is its own.
 *
 * Figures are CPU time (process.cpuUsage, user + system) of the median of several runs after warm-up; the
 * machine is shared, so expect noise of tens of percent.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { type SinkSummary, sinkBatch } from '../lambdas/sink/core';
import { decodeMskEvent } from '../lambdas/sink/decode';
import { type ConsumedMessage, mskEvent } from '../lambdas/sink/msk-event';
import type { ColumnValues, ParquetEncoder } from '../lambdas/sink/parquet';
import { hyparquetEncoder } from '../lambdas/sink/parquet';
import { createRegistry, financialTransactions, ingestHeaders, topicOf } from '../schemas';
import type { ParquetColumn } from '../schemas/parquet';

const SIZES = [100, 1_000, 10_000];
const RUNS = 7;
const LIBRARIES = ['hyparquet-writer', 'parquet-wasm', 'parquetjs-lite'] as const;
type Library = (typeof LIBRARIES)[number];
type Encode = (columns: readonly ParquetColumn[], values: ColumnValues) => Uint8Array | Promise<Uint8Array>;

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF'];
const TYPES = financialTransactions.fields.transaction_type.knownValues;
const CATEGORIES = ['groceries', 'travel', 'rent', 'utilities', 'dining', 'health', 'fuel', 'retail'];

/**
 * A deterministic pseudo-random batch of transactions as the ingest Lambda produces them, within one event
 * hour, as the Kafka client hands them to the event source mapping (values and headers as bytes).
 */
function consumed(size: number): ConsumedMessage[] {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const messages = Array.from({ length: size }, (_, i) => {
    const micros = String(Math.floor(random() * 1e6)).padStart(6, '0');
    const minute = String(Math.floor((i / size) * 60)).padStart(2, '0');
    const data = {
      transaction_id: `txn-${(1_000_000 + i).toString(36)}-${Math.floor(random() * 1e9)}`,
      timestamp: `2024-01-15T10:${minute}:${String(i % 60).padStart(2, '0')}.${micros}`,
      account_id: `acc-${Math.floor(random() * 2_000)}`,
      amount: Math.round(random() * 100_000) / 100,
      currency: pick(CURRENCIES),
      transaction_type: pick(TYPES),
      merchant_id: random() < 0.3 ? null : `m-${Math.floor(random() * 300)}`,
      category: random() < 0.1 ? null : pick(CATEGORIES),
    };
    const headers = ingestHeaders({
      dataset: financialTransactions.name,
      schema_version: 1,
      ingest_time: `2024-01-15T10:${minute}:59.${micros}Z`,
      request_id: `req-${Math.floor(i / 10)}`,
    });
    return {
      topic: topicOf(financialTransactions),
      partition: 0,
      offset: 5_000_000 + i,
      timestamp: Date.UTC(2024, 0, 15, 10, Number(minute)),
      key: Buffer.from(data.transaction_id),
      value: Buffer.from(JSON.stringify(data)),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    };
  });
  return messages;
}

const SOURCE = { bootstrapServers: 'bench' };
const batch = (size: number) => mskEvent(consumed(size), SOURCE);

const settings = { rawBucket: 'raw', quarantineBucket: 'quarantine', glueDatabase: 'lake' };
const registry = createRegistry();
const noCatalog = { registerPartitions: async () => {} };

/** Runs the core the way the handler does, decoding the event first. */
function runSink(event: ReturnType<typeof batch>, encoder: ParquetEncoder): Promise<SinkSummary> {
  return sinkBatch(decodeMskEvent(event), {
    registry,
    encoder,
    writer: { put: async () => {} },
    catalog: noCatalog,
    clock: Date.now,
    settings,
  });
}

/** The column values the core hands to the encoder for a batch. */
async function columnsOf(size: number): Promise<{ columns: readonly ParquetColumn[]; values: ColumnValues }> {
  let captured: { columns: readonly ParquetColumn[]; values: ColumnValues } | undefined;
  const capture: ParquetEncoder = {
    encode(columns, values) {
      captured = { columns, values };
      return new Uint8Array();
    },
  };
  await runSink(batch(size), capture);
  if (!captured) throw new Error('the batch produced no file');
  return captured;
}

async function loadEncoder(library: Library): Promise<Encode> {
  switch (library) {
    case 'hyparquet-writer':
      return (columns, values) => hyparquetEncoder.encode(columns, values);
    case 'parquet-wasm': {
      const arrow = await import('apache-arrow');
      const wasm = await import('parquet-wasm');
      const arrowType = (c: ParquetColumn) =>
        ({
          string: new arrow.Utf8(),
          double: new arrow.Float64(),
          timestamp: new arrow.TimestampMicrosecond('UTC'),
          int32: new arrow.Int32(),
          int64: new arrow.Int64(),
        })[c.column.type];
      const properties = () =>
        new wasm.WriterPropertiesBuilder()
          .setCompression(wasm.Compression.SNAPPY)
          .setDictionaryEnabled(true)
          .build();
      return (columns, values) => {
        const vectors = Object.fromEntries(
          columns.map((c, i) => {
            const data = values[i] as unknown[];
            // Arrow's builders take timestamps as epoch milliseconds (numbers): hand it the microseconds raw.
            if (c.column.type === 'timestamp' || c.column.type === 'int64') {
              if (data.some((v) => v === null)) throw new Error(`nullable ${c.column.type} not benchmarked`);
              const raw = arrow.makeData({
                type: arrowType(c) as InstanceType<typeof arrow.Int64>,
                length: data.length,
                nullCount: 0,
                data: BigInt64Array.from(data as bigint[]),
              });
              return [c.column.name, arrow.makeVector(raw)];
            }
            return [c.column.name, arrow.vectorFromArray(data, arrowType(c))];
          }),
        );
        const table = wasm.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(vectors), 'stream'));
        return wasm.writeParquet(table, properties());
      };
    }
    case 'parquetjs-lite': {
      // CommonJS without types; compression must be set per column (a writer-level option is ignored).
      const parquet = require('parquetjs-lite');
      const typeOf = {
        string: 'UTF8',
        double: 'DOUBLE',
        timestamp: 'TIMESTAMP_MICROS',
        int32: 'INT32',
        int64: 'INT64',
      };
      return async (columns, values) => {
        const schema = new parquet.ParquetSchema(
          Object.fromEntries(
            columns.map(({ column }) => [
              column.name,
              { type: typeOf[column.type], optional: column.nullable, compression: 'SNAPPY' },
            ]),
          ),
        );
        const chunks: Buffer[] = [];
        const sink = new Writable({
          write(chunk, _encoding, done) {
            chunks.push(chunk);
            done();
          },
        });
        const writer = await parquet.ParquetWriter.openStream(schema, sink, { rowGroupSize: 100_000 });
        const rows = values[0]?.length ?? 0;
        for (let r = 0; r < rows; r += 1) {
          const row: Record<string, unknown> = {};
          columns.forEach(({ column }, i) => {
            const v = values[i]?.[r];
            if (v !== null && v !== undefined) row[column.name] = v;
          });
          await writer.appendRow(row);
        }
        await writer.close();
        return new Uint8Array(Buffer.concat(chunks));
      };
    }
  }
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

/** The 1-minute load average beside every figure: on a busy machine the figures mean little. */
const loadAverage = () => Number((loadavg()[0] ?? 0).toFixed(2));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function measureLibrary(library: Library): Promise<void> {
  const encode = await loadEncoder(library);
  for (const size of SIZES) {
    const { columns, values } = await columnsOf(size);
    const cpu: number[] = [];
    const wall: number[] = [];
    let bytes = 0;
    for (let run = 0; run < RUNS + 2; run += 1) {
      const start = process.cpuUsage();
      const t0 = performance.now();
      bytes = (await encode(columns, values)).byteLength;
      if (run >= 2) {
        cpu.push(cpuMs(start));
        wall.push(performance.now() - t0);
      }
    }
    const ms = median(cpu);
    console.log(
      JSON.stringify({
        library,
        rows: size,
        encodeCpuMs: Number(ms.toFixed(1)),
        cpuMicrosPerRecord: Number(((ms * 1000) / size).toFixed(1)),
        rowsPerSecond: Math.round((size / median(wall)) * 1000),
        bytesPerRow: Number((bytes / size).toFixed(1)),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        load: loadAverage(),
      }),
    );
  }
}

/**
 * The sink's whole path with the chosen encoder: the event source mapping building the MSK event from the
 * consumed messages (locally, that runs in the sink's process), then the handler's decode, validate, build
 * columns, encode, put (in memory).
 */
async function measureSink(): Promise<void> {
  for (const size of SIZES) {
    const messages = consumed(size);
    const event = mskEvent(messages, SOURCE);
    const handlerCpu: number[] = [];
    const mappingCpu: number[] = [];
    let bytes = 0;
    for (let run = 0; run < RUNS + 2; run += 1) {
      let start = process.cpuUsage();
      mskEvent(messages, SOURCE);
      if (run >= 2) mappingCpu.push(cpuMs(start));
      start = process.cpuUsage();
      const summary = await runSink(event, hyparquetEncoder);
      if (run >= 2) handlerCpu.push(cpuMs(start));
      bytes = summary.bytes;
    }
    for (const [path, cpu] of [
      ['handler core (decode + validate + columns + hyparquet-writer + put)', handlerCpu],
      ['local event source mapping: MSK event from consumed messages', mappingCpu],
    ] as const) {
      console.log(
        JSON.stringify({
          path,
          rows: size,
          cpuMs: Number(median(cpu).toFixed(1)),
          cpuMicrosPerRecord: Number(((median(cpu) * 1000) / size).toFixed(1)),
          recordsPerSecondCpu: Math.round((size / median(cpu)) * 1000),
          ...(path.startsWith('handler') && { bytesPerRow: Number((bytes / size).toFixed(1)) }),
          peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
          load: loadAverage(),
        }),
      );
    }
  }
}

async function main(): Promise<void> {
  const which = process.argv[2];
  if (which === 'sink') return measureSink();
  if (LIBRARIES.includes(which as Library)) return measureLibrary(which as Library);
  console.log(
    `bench:sink — ${RUNS} runs per figure (median), after 2 warm-up runs; shared 2-core machine: noisy`,
  );
  for (const child of ['sink', ...LIBRARIES]) {
    execFileSync(process.execPath, [...process.execArgv, __filename, child], { stdio: 'inherit' });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
