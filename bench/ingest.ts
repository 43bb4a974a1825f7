/**
 * npm run bench:ingest — throughput and latency of the ingest path against a real local broker:
 *   1. producer clients compared on raw produce throughput (acks=all; kafkajs as the ingest runs it,
 *      at-least-once; the others idempotent), per compression;
 *   2. the Lambda handler + the default producer: single-record requests at a realistic concurrency, and
 *      batch requests of 500 records.
 * Uses KAFKA_BROKERS when set, otherwise starts a broker (localstack/services/kafka) on a free port and stops it.
 * Figures on a shared 2-core machine are noisy: compare within one run, not across runs.
 * Env: BENCH_SECONDS (per handler scenario, default 10), BENCH_CONCURRENCY (single-record, default 64),
 * CONFLUENT_KAFKA_JS (path to an installed @confluentinc/kafka-javascript, tried when set or resolvable).
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { Kafka, logLevel } from 'kafkajs';
import { COALESCE_MAX_BYTES } from '../lambdas/ingest/config';
import { brokerResolver } from '../lambdas/ingest/kafka/brokers';
import { coalescingProducer } from '../lambdas/ingest/kafka/coalescing';
import { kafkajsProducer } from '../lambdas/ingest/kafka/kafkajs';
import type {
  Compression,
  KafkaMessage,
  KafkaProducer,
  ProducerOptions,
} from '../lambdas/ingest/kafka/producer';
import { environmentConfig } from '../lib/config/environments';
import { topicSpecs } from '../lib/config/topics';
import { type Services, startServices } from '../localstack/services/cli';
import { ensureTopics } from '../localstack/services/kafka/topics';
import { DATASETS, financialTransactions, ingestHeaders } from '../schemas';
import { batchRouteOf } from '../schemas/api/openapi';
import { platformaticProducer } from './producers/platformatic';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const BATCH = 500;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
/** The 1-minute load average, printed beside every figure: a busy machine makes them meaningless. */
const load = () => `load ${(loadavg()[0] ?? 0).toFixed(2)}`;

function txn(i: number) {
  return {
    transaction_id: `bench-${process.pid}-${i}`,
    timestamp: new Date().toISOString().replace('Z', '123'),
    account_id: `acc-${i % 1000}`,
    amount: Math.round(Math.random() * 100_000) / 100,
    currency: 'USD',
    transaction_type: 'debit',
    merchant_id: i % 3 === 0 ? null : `m-${i % 97}`,
    category: i % 5 === 0 ? null : 'groceries',
  };
}

/** A record's message as the ingest core builds it. */
function recordMessage(i: number): KafkaMessage {
  const data = txn(i);
  return {
    key: data.transaction_id,
    value: JSON.stringify(data),
    headers: ingestHeaders({
      dataset: 'financial_transactions',
      schema_version: 1,
      ingest_time: new Date().toISOString(),
      request_id: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    }),
  };
}

/**
 * Runs `worker` from `concurrency` loops until `seconds` elapse; returns per-call latencies (ms) and the
 * CPU (user + system, all of this process's threads: zlib's work pool included) per record of
 * `recordsPerCall`.
 */
async function closedLoop(
  concurrency: number,
  seconds: number,
  worker: (i: number) => Promise<void>,
  recordsPerCall = 1,
) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await worker(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    perSecond: latencies.length / elapsed,
    recordsPerSecond: (latencies.length * recordsPerCall) / elapsed,
    cpuMicrosPerRecord: (user + system) / (latencies.length * recordsPerCall),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

type Factory = (options: ProducerOptions) => KafkaProducer;

/** @confluentinc/kafka-javascript through its KafkaJS-compatible API, when it could be installed. */
async function confluentFactory(): Promise<Factory | string> {
  const spec = process.env.CONFLUENT_KAFKA_JS ?? '@confluentinc/kafka-javascript';
  let lib: { KafkaJS: { Kafka: new (config: unknown) => { producer(config: unknown): ConfluentProducer } } };
  try {
    lib = require(spec);
  } catch (error) {
    return `not available (${(error as Error).message.split('\n')[0]})`;
  }
  interface ConfluentProducer {
    connect(): Promise<void>;
    send(record: unknown): Promise<unknown>;
    disconnect(): Promise<void>;
  }
  return (options) => {
    let producer: Promise<ConfluentProducer> | undefined;
    const client = () => {
      producer ??= options.brokers().then(async (brokers) => {
        const p = new lib.KafkaJS.Kafka({ kafkaJS: { brokers: [...brokers], logLevel: 1 } }).producer({
          kafkaJS: { idempotent: true, acks: -1, compression: options.compression },
          'linger.ms': 0,
        });
        await p.connect();
        return p;
      });
      return producer;
    };
    return {
      async send(topic, messages) {
        await (await client()).send({
          topic,
          messages: messages.map((m) => ({ ...m, headers: { ...m.headers } })),
        });
      },
      async ping() {
        return true;
      },
      async close() {
        await (await producer)?.disconnect();
      },
    };
  };
}

async function compareProducers(brokers: string[], topic: string) {
  const confluent = await confluentFactory();
  const candidates: [string, Factory | string, Compression[]][] = [
    ...(process.env.BENCH_ONLY === 'platformatic'
      ? []
      : [
          ['kafkajs', (o: ProducerOptions) => kafkajsProducer(o), ['none', 'gzip']] as [
            string,
            Factory,
            Compression[],
          ],
        ]),
    ['@platformatic/kafka', platformaticProducer, ['none', 'gzip', 'snappy', 'lz4']],
    ['@confluentinc/kafka-javascript', confluent, ['none', 'gzip', 'lz4']],
  ];
  console.log(
    '\n1. Producer throughput (acks=all; kafkajs at-least-once, the others idempotent; 3 partitions)',
  );
  console.log(
    `${'client'.padEnd(32)}${'compression'.padEnd(14)}${['batch rec/s', 'µs CPU/rec', 'single msg/s', 'µs CPU/msg'].map((h) => h.padStart(12)).join('')}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}   (batch: ${BATCH} per send; single: concurrency 64, coalesced)`,
  );
  for (const [name, factory, compressions] of candidates) {
    if (typeof factory === 'string') {
      console.log(`${name.padEnd(32)}${factory}`);
      continue;
    }
    for (const compression of compressions) {
      const producer = factory({
        clientId: 'bench',
        brokers: brokerResolver({ kind: 'static', brokers }),
        auth: { mechanism: 'plaintext' },
        compression,
        connectTimeoutMs: 1_000,
        requestTimeoutMs: 5_000,
        deadlineMs: 10_000,
      });
      try {
        await producer.send(topic, [recordMessage(0)]); // connect outside the measurement
        const messages = Array.from({ length: BATCH }, (_, j) => recordMessage(j));
        const batch = await closedLoop(
          1,
          Math.max(2, SECONDS / 3),
          (_i) => producer.send(topic, messages),
          BATCH,
        );
        const coalesced = coalescingProducer(producer, { maxBytes: COALESCE_MAX_BYTES, deadlineMs: 10_000 });
        const single = await closedLoop(64, Math.max(2, SECONDS / 3), (i) =>
          coalesced.send(topic, [messages[i % BATCH] as KafkaMessage]),
        );
        console.log(
          `${name.padEnd(32)}${compression.padEnd(14)}${fmt(batch.recordsPerSecond).padStart(12)}${fmt(batch.cpuMicrosPerRecord, 1).padStart(12)}${fmt(single.perSecond).padStart(12)}${fmt(single.cpuMicrosPerRecord, 1).padStart(12)}${fmt(single.p50, 1).padStart(9)}${fmt(single.p99, 1).padStart(9)}  ${load()}`,
        );
      } catch (error) {
        console.log(
          `${name.padEnd(32)}${compression.padEnd(14)}failed: ${(error as Error).message} ${String((error as Error).cause ?? '')}`,
        );
        console.dir((error as Error).cause, { depth: 5 });
      } finally {
        await producer.close();
      }
    }
  }
}

function event(method: string, path: string, body: string, i: number): APIGatewayProxyEvent {
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'python-requests/2.31.0' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: `bench-${i}` } as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: false,
  };
}

async function benchHandler() {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const { handler, closeHandler } = await import('../lambdas/ingest/handler');
  const context = { awsRequestId: 'bench', functionName: 'ingest' } as Context;
  const call = async (e: APIGatewayProxyEvent) => {
    const response = await handler(e, context);
    if (response.statusCode >= 300) throw new Error(`status ${response.statusCode}: ${response.body}`);
  };
  await call(event('POST', financialTransactions.route, JSON.stringify(txn(-1)), -1)); // cold start
  // Bodies built before the clock starts, so the CPU per record is the handler's and its producer's only.
  const singles = Array.from({ length: 5_000 }, (_, i) => JSON.stringify(txn(i)));
  const batches = Array.from({ length: 16 }, (_, i) =>
    JSON.stringify({ records: Array.from({ length: BATCH }, (_, j) => txn(2e7 + i * BATCH + j)) }),
  );
  const cost = (r: { recordsPerSecond: number; cpuMicrosPerRecord: number }) =>
    `${fmt(r.recordsPerSecond)} records/s, CPU ${fmt(r.cpuMicrosPerRecord, 1)} µs/record`;
  console.log(`\n2. Lambda handler + kafkajs producer, closed loop for ${SECONDS} s each (${load()})`);
  const single = await closedLoop(CONCURRENCY, SECONDS, (i) =>
    call(event('POST', financialTransactions.route, singles[i % singles.length] as string, i)),
  );
  console.log(
    `single record, concurrency ${CONCURRENCY}: ${cost(single)}, p50 ${fmt(single.p50, 1)} ms, p99 ${fmt(single.p99, 1)} ms (${fmt(single.calls)} requests; ${load()})`,
  );
  const one = await closedLoop(1, Math.max(2, SECONDS / 2), (i) =>
    call(event('POST', financialTransactions.route, singles[i % singles.length] as string, i)),
  );
  console.log(
    `single record, concurrency 1: ${cost(one)}, p50 ${fmt(one.p50, 1)} ms, p99 ${fmt(one.p99, 1)} ms (${load()})`,
  );
  for (const concurrency of [1, 4]) {
    const batch = await closedLoop(
      concurrency,
      SECONDS,
      (i) =>
        call(event('POST', batchRouteOf(financialTransactions), batches[i % batches.length] as string, i)),
      BATCH,
    );
    console.log(
      `batch of ${BATCH}, concurrency ${concurrency}: ${cost(batch)}, ${fmt(batch.perSecond, 1)} req/s, p50 ${fmt(batch.p50, 1)} ms, p99 ${fmt(batch.p99, 1)} ms (${load()})`,
    );
  }
  await closeHandler();
}

async function main() {
  let services: Services | undefined;
  let brokers = process.env.KAFKA_BROKERS?.split(',');
  if (!brokers) {
    // Stopped at the end, and by its watchdog should this process be killed.
    console.log('starting a broker on a free port (set KAFKA_BROKERS to use a running one)');
    services = await startServices({
      dir: resolve(__dirname, '..', '.local', 'bench-ingest'),
      kafkaPort: 'free',
      aws: false,
      fresh: true,
    });
    brokers = services.kafka?.brokers ?? [];
    process.env.KAFKA_BROKERS = brokers.join(',');
  }
  try {
    // One topic for the client comparison, with the platform topics' settings.
    const topic = `bench_producers_${process.pid}`;
    await ensureTopics(brokers, topicSpecs(environmentConfig('local'), [...DATASETS, { name: topic }]));
    const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.ERROR }).admin();
    await admin.connect();
    try {
      if (process.env.BENCH_SKIP_PRODUCERS !== '1') await compareProducers(brokers, `raw_${topic}`);
      await benchHandler();
    } finally {
      await admin.deleteTopics({ topics: [`raw_${topic}`] }).catch(() => {});
      await admin.disconnect();
    }
  } finally {
    await services?.stop();
  }
  console.log('\n(shared 2-core machine: figures are noisy)');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
