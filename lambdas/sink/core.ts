import type { DatasetRegistry } from '../../schemas';
import { checkBatch, type KafkaRecord } from './check';
import type { SinkSettings } from './config';
import type { ParquetEncoder } from './parquet';
import { type ObjectPlan, type PutObject, planObjects, type RawPartition } from './plan';

export type { KafkaRecord, QuarantineLine, QuarantineReason } from './check';
export type { PutObject, RawPartition } from './plan';

/** The S3 writer: a put that overwrites (deterministic keys make that the retry semantics). */
export interface ObjectWriter {
  put(object: PutObject): Promise<void>;
}

/** Registers raw partitions in the catalog; must treat an existing partition as success. */
export interface CatalogRegistrar {
  registerPartitions(dataset: string, partitions: readonly RawPartition[]): Promise<void>;
}

export interface SinkLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface SinkDependencies {
  readonly registry: DatasetRegistry;
  readonly writer: ObjectWriter;
  readonly catalog: CatalogRegistrar;
  readonly encoder: ParquetEncoder;
  /** Epoch milliseconds now; read once the batch is written, for the accept-to-write latency. */
  readonly clock: () => number;
  readonly settings: SinkSettings;
  readonly logger?: SinkLogger;
}

export interface WrittenObject {
  readonly bucket: string;
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface SinkSummary {
  readonly records: number;
  readonly written: number;
  readonly quarantined: number;
  readonly rawFiles: readonly WrittenObject[];
  readonly quarantineFiles: readonly WrittenObject[];
  readonly bytes: number;
  /** Now minus the API's accept time of the written records, in milliseconds (undefined: none written). */
  readonly acceptToWriteMs?: { readonly max: number; readonly avg: number };
  /** Catalog registrations that failed (data is written regardless; the next batch retries them). */
  readonly catalogFailures: number;
}

/**
 * The sink, along its data flow: check each record (headers, JSON, its dataset's contract) → plan the objects
 * (raw Parquet per event hour, quarantine JSON lines) → write them all → register the new raw partitions →
 * summary. Throws when any object could not be written, so that the event source mapping retries the whole
 * batch (deterministic keys make the retry overwrite, not duplicate).
 */
export async function sinkBatch(
  records: readonly KafkaRecord[],
  deps: SinkDependencies,
): Promise<SinkSummary> {
  const { valid, rejected } = checkBatch(records, deps.registry);
  const plan = planObjects(valid, rejected, deps.settings, deps.encoder);
  await writeAll(plan.puts, deps.writer);
  const now = deps.clock();
  const catalogFailures = await registerPartitions(plan, deps);
  const latencies = valid.map(({ row }) => now - Number(row.ingestMicros / 1000n));
  return {
    ...summarize(plan),
    records: records.length,
    written: valid.length,
    quarantined: rejected.length,
    ...(latencies.length > 0 && {
      acceptToWriteMs: {
        max: Math.max(...latencies),
        avg: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      },
    }),
    catalogFailures,
  };
}

async function writeAll(puts: readonly PutObject[], writer: ObjectWriter): Promise<void> {
  const results = await Promise.allSettled(puts.map((put) => writer.put(put)));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ key: puts[i]?.key, error: r.reason }] : [],
  );
  if (failures.length > 0) {
    throw new AggregateError(
      failures.map((f) => f.error),
      `Failed to write ${failures.length} of ${puts.length} objects (${failures.map((f) => f.key).join(', ')}); the batch will be retried`,
    );
  }
}

/** Registers each dataset's new partitions; a failure is counted and logged, never thrown (data is written). */
async function registerPartitions(plan: ObjectPlan, deps: SinkDependencies): Promise<number> {
  let failures = 0;
  await Promise.all(
    [...plan.partitions].map(async ([dataset, datasetPartitions]) => {
      try {
        await deps.catalog.registerPartitions(dataset, [...datasetPartitions.values()]);
      } catch (error) {
        failures += 1;
        deps.logger?.warn('Catalog registration failed; the data is written and a later batch retries', {
          dataset,
          partitions: [...datasetPartitions.keys()],
          error: String(error),
        });
      }
    }),
  );
  return failures;
}

function summarize(plan: ObjectPlan): Pick<SinkSummary, 'rawFiles' | 'quarantineFiles' | 'bytes'> {
  const written = plan.puts.map((put) => ({
    bucket: put.bucket,
    key: put.key,
    rows: Number(put.metadata.rows),
    bytes: put.body.byteLength,
  }));
  return {
    rawFiles: written.slice(0, plan.rawFiles),
    quarantineFiles: written.slice(plan.rawFiles),
    bytes: written.reduce((sum, w) => sum + w.bytes, 0),
  };
}
