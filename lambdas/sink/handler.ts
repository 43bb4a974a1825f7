import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, MSKEvent } from 'aws-lambda';
import { createRegistry } from '../../schemas';
import { METRIC_SERVICES, SINK_METRICS } from '../shared/metric-names';
import { instrumentation } from '../shared/powertools';
import { glueCatalog, s3Writer } from './aws';
import { sinkSettingsFromEnv } from './config';
import { type SinkDependencies, type SinkSummary, sinkBatch } from './core';
import { decodeMskEvent } from './decode';
import { hyparquetEncoder } from './parquet';

const { logger, metrics } = instrumentation(METRIC_SERVICES.sink);

/** Built on first use rather than at import, so the local platform and tests can set the environment first. */
function buildDependencies(): SinkDependencies {
  const settings = sinkSettingsFromEnv();
  return {
    registry: createRegistry(),
    writer: s3Writer(new S3Client({})),
    catalog: glueCatalog(new GlueClient({}), settings.glueDatabase, settings.rawBucket),
    encoder: hyparquetEncoder,
    clock: Date.now,
    settings,
    logger,
  };
}

let dependencies: SinkDependencies | undefined;

function record(summary: SinkSummary): void {
  metrics.addMetric(SINK_METRICS.recordsWritten, MetricUnit.Count, summary.written);
  metrics.addMetric(SINK_METRICS.recordsQuarantined, MetricUnit.Count, summary.quarantined);
  metrics.addMetric(SINK_METRICS.filesWritten, MetricUnit.Count, summary.rawFiles.length);
  metrics.addMetric(SINK_METRICS.bytesWritten, MetricUnit.Bytes, summary.bytes);
  metrics.addMetric(SINK_METRICS.catalogFailures, MetricUnit.Count, summary.catalogFailures);
  if (summary.acceptToWriteMs) {
    metrics.addMetric(
      SINK_METRICS.acceptToWriteLatencyMax,
      MetricUnit.Milliseconds,
      summary.acceptToWriteMs.max,
    );
    metrics.addMetric(
      SINK_METRICS.acceptToWriteLatencyAvg,
      MetricUnit.Milliseconds,
      summary.acceptToWriteMs.avg,
    );
  }
  logger.info('Batch written', {
    records: summary.records,
    written: summary.written,
    quarantined: summary.quarantined,
    files: [...summary.rawFiles, ...summary.quarantineFiles].map((f) => `s3://${f.bucket}/${f.key}`),
  });
}

/**
 * MSK event source mapping entry point. A thrown error (an object that could not be written) fails the
 * invocation and the mapping retries the whole batch from the committed offsets, rewriting the same keys.
 * No partial batch responses: a file holds one event hour, so offsets of a partition interleave across
 * files, and a checkpoint at the lowest failed offset would rewrite later, already written rows under new
 * names — duplicates.
 */
export async function handler(event: MSKEvent, context: Context): Promise<void> {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    dependencies ??= buildDependencies();
    const deps = dependencies;
    record(await sinkBatch(decodeMskEvent(event), deps));
  } catch (error) {
    metrics.addMetric(SINK_METRICS.batchFailures, MetricUnit.Count, 1);
    logger.error('Batch failed; the event source mapping will retry it', error as Error);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
