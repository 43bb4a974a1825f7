/**
 * npm run replay — re-drives the batches the sink's event source mapping gave up on (after its retry budget)
 * through the sink handler, from the invocation records in the on-failure destination, locally and on AWS.
 *
 *   npm run replay -- [--env local|dev|staging|prod] [--bucket B] [--brokers host:port,...] [--iam]
 *                     [--dry-run] [--verbose]
 *
 * Defaults come from lib/config for --env (local: KAFKA_BROKERS or 127.0.0.1:9092, the emulator through
 * AWS_ENDPOINT_URL). On AWS run it where the MSK brokers are reachable, with the IAM bootstrap brokers
 * (`aws kafka get-bootstrap-brokers`) and --iam, and credentials allowed to read and move objects under
 * aws/lambda/ of the quarantine bucket and to write the raw zone. Progress goes to stderr, a JSON summary
 * to stdout; exit status 1 if any batch was left in place. See runbooks/sink-failed-batches.md.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Context, MSKEvent } from 'aws-lambda';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { mskIamToken } from '../lambdas/ingest/kafka/producer';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../lambdas/sink/config';
import { type FailedBatchStore, replayFailedBatches } from '../lambdas/sink/replay';
import { environmentConfig } from '../lib/config/environments';
import { bucketName, FAILED_BATCHES_PREFIX, glueDatabaseName, REPLAYED_PREFIX } from '../lib/config/lake';
import { lambdaContext } from '../localstack/runtime/api/proxy-event';
import { kafkaRangeReader } from '../localstack/tools/kafka/range-reader';

/** Invocation records under aws/lambda/ of `bucket`, moved to replayed/aws/lambda/... once replayed. */
export function s3FailedBatchStore(s3: S3Client, bucket: string): FailedBatchStore {
  return {
    async list() {
      const keys: { key: string; modified: number }[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${FAILED_BATCHES_PREFIX}/`,
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key) keys.push({ key: o.Key, modified: o.LastModified?.getTime() ?? 0 });
        }
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort((a, b) => a.modified - b.modified || a.key.localeCompare(b.key)).map((k) => k.key);
    },
    async read(key) {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await Body?.transformToString()) ?? '';
    },
    async markReplayed(key) {
      const to = `${REPLAYED_PREFIX}/${key}`;
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: to,
          CopySource: `${bucket}/${encodeURIComponent(key)}`,
        }),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return to;
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: 'local' },
      bucket: { type: 'string' },
      brokers: { type: 'string' },
      iam: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  const config = environmentConfig(values.env);
  const bucket = values.bucket ?? process.env[QUARANTINE_BUCKET] ?? bucketName(config, 'quarantine');
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  // The sink handler reads its settings from the environment, as in Lambda: the environment's buckets.
  process.env[RAW_BUCKET] ??= bucketName(config, 'raw');
  process.env[QUARANTINE_BUCKET] ??= bucketName(config, 'quarantine');
  process.env[GLUE_DATABASE] ??= glueDatabaseName(config);
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? 'INFO' : 'WARN';
  const { handler } = await import('../lambdas/sink/handler');

  const kafkaConfig: KafkaConfig = {
    clientId: 'lakehouse-replay',
    brokers,
    logLevel: logLevel.ERROR,
    ...(values.iam && {
      ssl: true,
      sasl: {
        mechanism: 'oauthbearer' as const,
        oauthBearerProvider: async () => ({ value: await mskIamToken(config.region) }),
      },
    }),
  };
  const s3 = new S3Client({});
  const log = (line: string) => process.stderr.write(`[replay] ${line}\n`);
  log(
    `on-failure records: s3://${bucket}/${FAILED_BATCHES_PREFIX}/; brokers ${brokers.join(',')}; raw s3://${process.env[RAW_BUCKET]}`,
  );
  try {
    const summary = await replayFailedBatches({
      store: s3FailedBatchStore(s3, bucket),
      read: kafkaRangeReader(new Kafka(kafkaConfig)),
      invoke: (event: MSKEvent) =>
        handler(
          event,
          lambdaContext('sink-replay', config.sink.timeoutSeconds * 1000, randomUUID()) as Context,
        ),
      dryRun: values['dry-run'],
      verbose: values.verbose,
      log,
    });
    log(
      `${summary.replayed} of ${summary.batches} batch(es) replayed, ${summary.recordsRecovered} of ${summary.recordsNamed} record(s) recovered, ${summary.recordsMissing} missing from Kafka, in ${(summary.durationMs / 1000).toFixed(1)} s`,
    );
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.leftInPlace > 0 && !values['dry-run'] ? 1 : 0;
  } finally {
    s3.destroy();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`[replay] failed: ${error.stack ?? error}\n`);
      process.exit(2);
    },
  );
}
