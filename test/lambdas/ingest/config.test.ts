import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENV, readIngestConfig } from '../../../lambdas/ingest/config';
import { brokerResolver } from '../../../lambdas/ingest/kafka/brokers';
import { environmentConfig } from '../../../lib/config/environments';

describe('readIngestConfig', () => {
  test('locally: plaintext brokers from KAFKA_BROKERS, limits from the environment config by default', () => {
    const config = readIngestConfig({ [ENV.kafkaBrokers]: ' 127.0.0.1:9092, 127.0.0.1:9093 ,' });
    expect(config.kafka.brokerSource).toEqual({
      kind: 'static',
      brokers: ['127.0.0.1:9092', '127.0.0.1:9093'],
    });
    expect(config.kafka.auth).toEqual({ mechanism: 'plaintext' });
    expect(config.kafka.compression).toBe('gzip');
    expect(config.limits).toEqual({
      maxBodyBytes: environmentConfig('local').ingest.maxBodyBytes,
      maxBatchRecords: environmentConfig('local').ingest.maxBatchRecords,
    });
  });

  test('on AWS: IAM auth against the MSK cluster ARN, limits from the variables CDK sets', () => {
    const config = readIngestConfig({
      [ENV.mskClusterArn]: 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakehouse-dev/abc',
      [ENV.region]: 'eu-west-1',
      [ENV.maxBodyBytes]: '2048',
      [ENV.maxBatchRecords]: '50',
    });
    expect(config.kafka.brokerSource).toEqual({
      kind: 'msk',
      clusterArn: 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakehouse-dev/abc',
    });
    expect(config.kafka.auth).toEqual({ mechanism: 'aws-iam', region: 'eu-west-1' });
    expect(config.limits).toEqual({ maxBodyBytes: 2048, maxBatchRecords: 50 });
  });

  test.each([
    [{}, /KAFKA_BROKERS.*MSK_CLUSTER_ARN/],
    [{ [ENV.mskClusterArn]: 'arn:x' }, /AWS_REGION/],
    [{ [ENV.kafkaBrokers]: 'h:1', [ENV.maxBodyBytes]: 'lots' }, /MAX_BODY_BYTES must be a positive integer/],
    [{ [ENV.kafkaBrokers]: 'h:1', [ENV.maxBatchRecords]: '0' }, /MAX_BATCH_RECORDS/],
  ])('misconfiguration fails loudly: %j', (env, message) => {
    expect(() => readIngestConfig(env)).toThrow(message);
  });
});

describe('brokerResolver on AWS (GetBootstrapBrokers through AWS_ENDPOINT_URL)', () => {
  let server: Server;
  let calls: string[] = [];
  let fail = false;
  const saved = { ...process.env };

  beforeAll(async () => {
    // moto does not implement GetBootstrapBrokers: a stand-in that answers the REST call the SDK makes.
    server = createServer((req, res) => {
      calls.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`);
      res.setHeader('content-type', 'application/json');
      if (fail) {
        res.statusCode = 500;
        res.end('{"message":"boom"}');
        return;
      }
      res.end(JSON.stringify({ bootstrapBrokerStringSaslIam: 'b-1.msk:9098,b-2.msk:9098' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_MAX_ATTEMPTS: '1',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    calls = [];
    fail = false;
  });

  const arn = 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakehouse-dev/abc';

  test('reads the IAM bootstrap string once and caches it', async () => {
    const resolve = brokerResolver({ kind: 'msk', clusterArn: arn });
    expect(await resolve()).toEqual(['b-1.msk:9098', 'b-2.msk:9098']);
    expect(await resolve()).toEqual(['b-1.msk:9098', 'b-2.msk:9098']);
    expect(calls).toEqual([`GET /v1/clusters/${arn}/bootstrap-brokers`]);
  });

  test('a failed lookup is not cached', async () => {
    const resolve = brokerResolver({ kind: 'msk', clusterArn: arn });
    fail = true;
    await expect(resolve()).rejects.toThrow();
    fail = false;
    expect(await resolve()).toEqual(['b-1.msk:9098', 'b-2.msk:9098']);
    expect(calls).toHaveLength(2);
  });
});
