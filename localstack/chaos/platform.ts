import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Pipeline, startPipeline } from '../runtime/pipeline';
import { DEFAULT_DIR, type Services, startServices } from '../services/cli';
import { type S3FaultProxy, startS3FaultProxy } from '../services/s3-fault-proxy';
import { Supervision } from '../services/supervisor';
import type { Timeline } from './faults';

/** The first stage of a chaos run (./run.ts): a fresh platform to drive. */

export interface PlatformOptions {
  readonly brokers: number;
  /** Seeds the S3 fault proxy's choices. */
  readonly seed: number;
  /** Data and logs of the run (wiped first). */
  readonly dir?: string;
  /** Handler output to the terminal rather than `<dir>/logs/`. */
  readonly verbose?: boolean;
  readonly log: (line: string) => void;
}

/** The platform a chaos run drives: services, the S3 fault proxy in front of the emulator, the pipeline. */
export interface ChaosPlatform {
  readonly supervision: Supervision;
  readonly kafka: NonNullable<Services['kafka']>;
  readonly admin: Admin;
  readonly proxy: S3FaultProxy;
  readonly pipeline: Pipeline;
  /** Reads the emulator directly (the sinks write through the proxy). */
  readonly s3: S3Client;
  readonly direct: Services['env'];
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startChaosPlatform(
  options: PlatformOptions,
  timeline: Timeline,
): Promise<ChaosPlatform> {
  const { log } = options;
  const supervision = new Supervision(log);
  supervision.onRestart((event) => {
    if (!event.error) timeline.restarts.push({ process: event.process, at: Date.now() });
  });
  const dir = options.dir ?? join(DEFAULT_DIR, 'chaos');
  const services = await startServices({
    dir,
    fresh: true,
    brokers: options.brokers,
    kafkaPort: 'free',
    awsPort: 'free',
    emulator: 'moto',
    supervision,
    log,
  });
  const direct = services.env;
  const proxy = await startS3FaultProxy({ target: direct.AWS_ENDPOINT_URL as string, seed: options.seed });
  const kafka = services.kafka;
  if (!kafka) throw new Error('chaos needs Kafka');
  const admin = new Kafka({ clientId: 'chaos', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  // The sinks write S3 through the proxy; the checks read the emulator directly.
  const pipeline = await startPipeline({
    services: { ...direct, AWS_ENDPOINT_URL_S3: proxy.url },
    apiPort: 0,
    supervision,
    logDir: options.verbose ? undefined : join(dir, 'logs'),
    onSinkMessage: (message) => {
      if (message.type === 'commit') timeline.commits.push({ topic: message.topic, at: Date.now() });
      if (message.type === 'invocation' && message.latency.count > 0) timeline.writes.push(message.latency);
    },
  });
  const s3 = new S3Client({
    endpoint: direct.AWS_ENDPOINT_URL,
    region: direct.AWS_REGION,
    forcePathStyle: true,
  });
  await admin.connect();
  return {
    supervision,
    kafka,
    admin,
    proxy,
    pipeline,
    s3,
    direct,
    dir,
    async stop() {
      proxy.set({ errorShare: 0 });
      await pipeline.stop().catch(() => {});
      await admin.disconnect().catch(() => {});
      await services.stop();
      await proxy.close();
      s3.destroy();
    },
  };
}
