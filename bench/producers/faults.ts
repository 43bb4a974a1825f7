/**
 * npm run bench:faults — the ingest producer under broker faults (issue 10). CLIENTS clients post single
 * records through the ingest core (kafkajs behind the coalescer, as the handler runs it) to a dedicated
 * broker, retrying 503s as a real client does, while the broker is frozen (SIGSTOP, then SIGCONT) and
 * killed (SIGKILL, then started again on the same data). Afterwards the topic is read back and compared
 * with the answers: lost = answered 200 but not in Kafka (goal 0); duplicates = records in Kafka beyond
 * one per id (written by a send answered 503, then retried); recovery = broker back → next 200.
 * Env: FAULT_ROUNDS (default 2 freezes and 2 kills), FAULT_CLIENTS (default 16), FREEZE_MS (default 4000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ENV, readIngestConfig } from '../../lambdas/ingest/config';
import { createIngestCore } from '../../lambdas/ingest/core';
import { ingestProducer } from '../../lambdas/ingest/producer';
import { POWERTOOLS_ENV } from '../../lambdas/shared/metric-names';
import { type KafkaBroker, startKafka } from '../../localstack/services/kafka/broker';
import { freePort } from '../../localstack/services/process';
import { createRegistry, financialTransactions } from '../../schemas';

const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 2);
const CLIENTS = Number(process.env.FAULT_CLIENTS ?? 16);
const FREEZE_MS = Number(process.env.FREEZE_MS ?? 4_000);
const STEADY_MS = 3_000;
/** A fault the ingest has not recovered from by then is reported as such, and the run goes on. */
const RECOVERY_CAP_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => (loadavg()[0] ?? 0).toFixed(1);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-faults-'));
  const ports = { port: await freePort(), controllerPort: await freePort() };
  const start = () => startKafka({ dir, ...ports, heap: '256m' });
  let broker: KafkaBroker = await start();
  const brokers = broker.brokers;
  const topic = `raw_${financialTransactions.name}`;
  const kafka = new Kafka({ clientId: 'bench-faults', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
  await admin.disconnect();

  const producer = ingestProducer(
    readIngestConfig({ [ENV.kafkaBrokers]: brokers.join(','), [POWERTOOLS_ENV.serviceName]: 'bench-faults' })
      .kafka,
  );
  const core = createIngestCore({
    registry: createRegistry([financialTransactions]),
    producer,
    clock: Date.now,
    limits: { maxBodyBytes: 1_048_576, maxBatchRecords: 500 },
  });
  const record = financialTransactions.fields;
  const body = (id: string) =>
    JSON.stringify({
      ...Object.fromEntries(Object.entries(record).map(([k, f]) => [k, f.example])),
      transaction_id: id,
    });

  const acked = new Set<string>();
  const okTimes: number[] = [];
  let unavailable = 0;
  let running = true;
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = 0; running; i++) {
      const id = `c${c}-${i}`;
      while (running) {
        const { response } = await core({
          method: 'POST',
          path: financialTransactions.route,
          headers: { 'content-type': 'application/json' },
          body: body(id),
          isBase64Encoded: false,
          requestId: id,
        });
        if (response.statusCode === 200) {
          acked.add(id);
          okTimes.push(Date.now());
          break;
        }
        if (response.statusCode !== 503) throw new Error(`unexpected ${response.statusCode}`);
        unavailable += 1;
        await sleep(200); // the client's back-off
      }
    }
  });

  const recoveries: { fault: string; seconds: number; load: string }[] = [];
  const recovered = async (fault: string, back: number) => {
    while (!okTimes.some((t) => t > back) && Date.now() - back < RECOVERY_CAP_MS) await sleep(50);
    recoveries.push({
      fault,
      seconds: (Math.min(Date.now(), ...okTimes.filter((t) => t > back)) - back) / 1000,
      load: load(),
    });
  };
  await sleep(STEADY_MS);
  for (let round = 0; round < ROUNDS; round++) {
    process.kill(broker.pid, 'SIGSTOP');
    await sleep(FREEZE_MS);
    process.kill(broker.pid, 'SIGCONT');
    await recovered(`freeze ${FREEZE_MS / 1000} s`, Date.now());
    await sleep(STEADY_MS);
    process.kill(broker.pid, 'SIGKILL');
    await sleep(1_000);
    broker = await start();
    await recovered('kill + restart', Date.now());
    await sleep(STEADY_MS);
  }
  running = false;
  await Promise.all(clients);
  await producer.close();

  const counts = new Map<string, number>();
  const reader = kafka.admin();
  await reader.connect();
  const ends = await reader.fetchTopicOffsets(topic);
  await reader.disconnect();
  const total = ends.reduce((sum, p) => sum + Number(p.high), 0);
  const consumer = kafka.consumer({ groupId: `bench-faults-${process.pid}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let read = 0;
  await new Promise<void>((resolve) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (++read >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });

  const lost = [...acked].filter((id) => !counts.has(id));
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  console.log(
    `\nProducer under broker faults: ${CLIENTS} clients, single records, ${ROUNDS} × (freeze + kill)`,
  );
  console.log(`answered 200: ${acked.size} · 503s (retried): ${unavailable} · records in Kafka: ${total}`);
  console.log(
    `lost (200 but not in Kafka): ${lost.length}${lost.length ? ` e.g. ${lost.slice(0, 5).join(', ')}` : ''}`,
  );
  console.log(`duplicates in Kafka (a 503'd send written, then retried): ${duplicates}`);
  for (const r of recoveries)
    console.log(
      `  ${r.fault.padEnd(16)} broker back → next 200: ${r.seconds * 1000 >= RECOVERY_CAP_MS ? 'none within' : ''} ${r.seconds.toFixed(1)} s (load ${r.load})`,
    );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
