import { GetDatabaseCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigResourceTypes, logLevel } from 'kafkajs';
import { environmentConfig } from '../../../lib/config/environments';
import { bucketName, glueDatabaseName, LAKE_ZONES, rawTableName } from '../../../lib/config/lake';
import { topicSpecs } from '../../../lib/config/topics';
import { DATASETS, rawColumns } from '../../../schemas';
import {
  awsClientConfig,
  createTestBucket,
  createTestTopic,
  testKafka,
  uniqueName,
} from '../../support/services';

const local = environmentConfig('local');

describe('local services are real', () => {
  it('carries a message through the Kafka broker', async () => {
    const topic = await createTestTopic('services');
    const kafka = testKafka();
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: uniqueName('services') });
    await Promise.all([producer.connect(), consumer.connect()]);
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<{ key: string; value: string }>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) =>
            resolve({ key: String(message.key), value: String(message.value) }),
        });
      });
      await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: '{"amount":1.5}' }] });
      await expect(received).resolves.toEqual({ key: 'k1', value: '{"amount":1.5}' });
    } finally {
      await Promise.all([producer.disconnect(), consumer.disconnect()]);
    }
  });

  it('created the dataset topics with the partitions and configs the CDK declares', async () => {
    const specs = topicSpecs(local, DATASETS);
    expect(specs.map((s) => s.name)).toEqual([
      'raw_financial_transactions',
      'raw_insurance_claims',
      'raw_iot_sensor_events',
    ]);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
      });
      for (const spec of specs) {
        const topic = metadata.topics.find((t) => t.name === spec.name);
        expect(topic?.partitions).toHaveLength(spec.partitions);
        expect(topic?.partitions.every((p) => p.replicas.length === spec.replicationFactor)).toBe(true);
        const entries = described.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
        const configs = Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
        expect(configs).toMatchObject(spec.configs);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses to auto-create topics, as on MSK', async () => {
    // The broker's refusal is the expected outcome here, so the client's error log is silenced.
    const producer = testKafka({ retry: { retries: 1 }, logLevel: logLevel.NOTHING }).producer({
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: uniqueName('never-created'), messages: [{ value: 'x' }] }),
      ).rejects.toThrow(/does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION|not hosted/i);
    } finally {
      await producer.disconnect();
    }
  });

  it('stores and returns an object in the AWS emulator', async () => {
    const bucket = await createTestBucket('services');
    const s3 = new S3Client(awsClientConfig());
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.json', Body: '{"ok":true}' }));
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.json' }));
      expect(await object.Body?.transformToString()).toBe('{"ok":true}');
    } finally {
      s3.destroy();
    }
  });

  it('provisioned the lake buckets, Glue database and raw tables the CDK declares', async () => {
    const s3 = new S3Client(awsClientConfig());
    const glue = new GlueClient(awsClientConfig());
    try {
      for (const zone of LAKE_ZONES) {
        await expect(
          s3.send(new HeadBucketCommand({ Bucket: bucketName(local, zone) })),
        ).resolves.toBeDefined();
      }
      const database = await glue.send(new GetDatabaseCommand({ Name: glueDatabaseName(local) }));
      expect(database.Database?.Name).toBe('lakehouse_local');
      for (const def of DATASETS) {
        const { Table } = await glue.send(
          new GetTableCommand({ DatabaseName: glueDatabaseName(local), Name: rawTableName(def.name) }),
        );
        expect(Table?.PartitionKeys?.map((k) => k.Name)).toEqual(['event_date', 'event_hour']);
        expect(Table?.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(
          rawColumns(def).map((c) => c.name),
        );
        expect(Table?.StorageDescriptor?.Location).toBe(`s3://${bucketName(local, 'raw')}/${def.name}`);
      }
    } finally {
      s3.destroy();
      glue.destroy();
    }
  });
});
