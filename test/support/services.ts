import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

/**
 * The real services tests run against. scripts/test.sh (or jest's globalSetup when jest runs alone)
 * starts one broker and one AWS emulator and exports KAFKA_BROKERS and AWS_ENDPOINT_URL; tests read them
 * only through these helpers and create uniquely named topics and buckets so they never collide.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run tests through jest (globalSetup starts the services) or scripts/test.sh`,
    );
  }
  return value;
}

export function kafkaBrokers(): string[] {
  return required('KAFKA_BROKERS').split(',');
}

export function awsEndpoint(): string {
  return required('AWS_ENDPOINT_URL');
}

export function awsRegion(): string {
  return process.env.AWS_REGION ?? 'us-east-1';
}

/** `<prefix>-<random>`: lowercase, digits and dashes, valid as a topic, bucket or consumer group name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A kafkajs client on the test broker (quiet unless something fails). */
export function testKafka(config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: uniqueName('test'),
    brokers: kafkaBrokers(),
    logLevel: logLevel.ERROR,
    ...config,
  });
}

/** Creates a fresh topic and returns its name. */
export async function createTestTopic(
  prefix = 'test',
  options: { partitions?: number; configs?: Record<string, string> } = {},
): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? 1,
          replicationFactor: 1,
          configEntries: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Client config for the emulator (the SDK would also pick AWS_ENDPOINT_URL up by itself). */
export function awsClientConfig(): { endpoint: string; region: string } {
  return { endpoint: awsEndpoint(), region: awsRegion() };
}

/** Creates a fresh bucket in the emulator and returns its name. */
export async function createTestBucket(prefix = 'test'): Promise<string> {
  const bucket = uniqueName(prefix);
  const s3 = new S3Client(awsClientConfig());
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
  return bucket;
}

/** The services' variables as the platform's processes get them (startPipeline's `services`). */
export function servicesEnv(): Record<string, string> {
  const { endpoint, region } = awsClientConfig();
  return {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  };
}
