import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { s3Writer } from '../../../lambdas/sink/aws';
import { sinkSettingsFromEnv } from '../../../lambdas/sink/config';
import type { EnvironmentConfig } from '../../../lib/config/environments';
import { childConfig } from '../../settings';
import { deployedFunction } from './deployed-function';
import { type Invocation, type MskHandler, startEventSourceMapping } from './event-source-mapping';

/**
 * The local event source mapping as its own process, started by ./sink-process.ts. Like Lambda, the sink
 * runs apart from the API: its CPU-bound Parquet encoding must not stall the ingest handler's Kafka
 * acknowledgements. Settings arrive as JSON (settings.ts childConfig); the sink handler reads its own variables
 * (RAW_BUCKET, ...) from the inherited environment. Reports to the parent over IPC.
 */

export interface SinkProcessConfig {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly groupPrefix: string;
  readonly sink: EnvironmentConfig['sink'];
  /** A deployed sink function to invoke through the Lambda API (hybrid) instead of the handler in-process. */
  readonly functionName?: string;
}

export type SinkProcessMessage =
  | { readonly type: 'ready' }
  | ({ readonly type: 'invocation' } & Invocation)
  | { readonly type: 'commit'; readonly topic: string; readonly records: number }
  /** A batch given up after its retries: its on-failure record is at `key` (see `npm run replay`). */
  | { readonly type: 'giveUp'; readonly topic: string; readonly records: number; readonly key: string };

const send = (message: SinkProcessMessage) => process.send?.(message);

async function main(): Promise<void> {
  const config = childConfig<SinkProcessConfig>('eventSourceMapping');
  const handler = config.functionName
    ? deployedFunction(new LambdaClient({}), config.functionName)
    : ((await import('../../../lambdas/sink/handler')).handler as MskHandler);
  const esm = await startEventSourceMapping({
    ...config,
    handler,
    // The CDK's on-failure destination is the sink's quarantine bucket: the same here.
    onFailure: { bucket: sinkSettingsFromEnv().quarantineBucket, writer: s3Writer(new S3Client({})) },
    onInvocation: (invocation) => send({ type: 'invocation', ...invocation }),
    onCommit: (topic, records) => send({ type: 'commit', topic, records }),
    onGiveUp: (topic, records, key) => send({ type: 'giveUp', topic, records, key }),
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    esm.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent went away without stopping us: stop rather than linger.
  process.once('disconnect', stop);
  send({ type: 'ready' });
}

main().catch((error: Error) => {
  process.stderr.write(`[esm] failed to start: ${error.stack ?? error}\n`);
  process.exit(1);
});
