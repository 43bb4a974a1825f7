/**
 * The broker node every suite, `npm start` and `npm run chaos` run (localstack/services/kafka/broker.ts):
 * its startup allocations fit its heap by construction, and a node that dies while starting is one clear
 * error with its cause and what to do.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startKafka } from '../../../localstack/services/kafka/broker';
import { freePort, startupFailure, waitFor } from '../../../localstack/services/process';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a local Kafka node', () => {
  it('fits a 128 MB heap with its log cleaner running, so no startup allocation depends on luck', async () => {
    // The cleaner's dedupe buffer was Kafka's default 128 MB, one array: in a 256 MB heap it fitted or not
    // depending on the heap's state at that moment (the suite's brokers died of it now and then), and in
    // 128 MB it never fits. Compaction must also really run on the small buffer.
    const dir = scratch();
    const broker = await startKafka({
      dir,
      port: await freePort(),
      controllerPort: await freePort(),
      heap: '128m',
    });
    try {
      const kafka = new Kafka({
        clientId: 'broker-test',
        brokers: broker.brokers,
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      const producer = kafka.producer();
      await Promise.all([admin.connect(), producer.connect()]);
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: 'compacted',
              configEntries: [
                { name: 'cleanup.policy', value: 'compact' },
                { name: 'segment.bytes', value: '4096' },
                { name: 'min.cleanable.dirty.ratio', value: '0.01' },
              ],
            },
          ],
        });
        // The same 50 keys twenty times over, in batches smaller than a segment, so segments roll.
        for (let round = 0; round < 20; round += 1) {
          await producer.send({
            topic: 'compacted',
            acks: -1,
            messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${round}` })),
          });
        }
      } finally {
        await Promise.all([admin.disconnect(), producer.disconnect()]);
      }
      // The cleaner records how far it cleaned each partition; it looks for work every 15 s.
      const checkpoint = join(dir, 'data', 'cleaner-offset-checkpoint');
      const cleanedTo = await waitFor(
        () => Number(/^compacted 0 (\d+)$/m.exec(readFileSync(checkpoint, 'utf8'))?.[1] ?? 0),
        { timeoutMs: 60_000, intervalMs: 500, what: 'the log cleaner to compact the topic' },
      );
      expect(cleanedTo).toBeGreaterThan(0);
      expect(readFileSync(broker.logFile, 'utf8')).not.toMatch(/OutOfMemoryError/);
    } finally {
      await broker.stop();
    }
  }, 120_000);

  it('that dies while starting is reported by its cause and what to do, not by its stack', async () => {
    const started = startKafka({
      dir: scratch(),
      port: await freePort(),
      controllerPort: await freePort(),
      heap: '16m',
    });
    const error: Error = await started.then(
      () => {
        throw new Error('a 16 MB broker started');
      },
      (e: Error) => e,
    );
    expect(error.message).toMatch(/^Kafka exited during startup: .*OutOfMemoryError/);
    expect(error.message).toMatch(/heap/i);
    expect(error.message).toMatch(/kafka\.log/);
    expect(error.message).not.toMatch(/^\s+at /m);
    expect(error.message.split('\n').length).toBeLessThanOrEqual(4);
  }, 120_000);
});

describe('startupFailure', () => {
  const log = (lines: string[]) => {
    const file = join(scratch(), 'service.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  it('names the last error line, with the advice that matches it and the log to read', () => {
    const file = log([
      '[2026-12-07 01:00:00,000] INFO starting (kafka.Kafka$)',
      '[2026-12-07 01:00:01,000] ERROR Exiting Kafka due to fatal exception during startup. (kafka.Kafka$)',
      'org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:9092: Address already in use.',
      '\tat kafka.network.Acceptor.openServerSocket(SocketServer.scala:734)',
      '\tat kafka.network.Acceptor.<init>(SocketServer.scala:602)',
      'Caused by: java.net.BindException: Address already in use',
      '\tat java.base/sun.nio.ch.Net.bind0(Native Method)',
    ]);
    const message = startupFailure('Kafka', file, [
      { match: /Address already in use/, advice: 'another process holds the port' },
    ]);
    expect(message).toBe(
      `Kafka exited during startup: Caused by: java.net.BindException: Address already in use\n` +
        `What to do: another process holds the port.\nThe whole log: ${file}`,
    );
  });

  it('falls back to the last line, and to the log alone, when nothing matches', () => {
    const file = log(['starting', 'bye']);
    expect(startupFailure('API', file)).toBe(`API exited during startup: bye\nThe whole log: ${file}`);
  });
});
