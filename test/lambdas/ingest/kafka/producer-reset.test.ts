/**
 * The kafkajs producer's reset after a failed or abandoned send (issue 10): its client is torn down — every
 * connection closed, no send going on behind the caller's back — and the next send starts a new client.
 * The broker here is a TCP server that accepts connections and never answers, as a frozen broker does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { brokerResolver } from '../../../../lambdas/ingest/kafka/brokers';
import { kafkajsProducer } from '../../../../lambdas/ingest/kafka/kafkajs';
import { KafkaUnavailableError } from '../../../../lambdas/ingest/kafka/producer';
import { waitFor } from '../../../../localstack/services/process';

const message = { key: 'id-1', value: '{}', headers: {} };

let server: Server;
const sockets: Socket[] = [];
const open = () => sockets.filter((s) => !s.destroyed).length;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.resume(); // read and ignore the requests, so the client's close is seen
    socket.on('error', () => {});
    socket.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const producer = () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return kafkajsProducer({
    clientId: 'reset-test',
    brokers: brokerResolver({ kind: 'static', brokers: [`127.0.0.1:${port}`] }),
    auth: { mechanism: 'plaintext' },
    compression: 'gzip',
    connectTimeoutMs: 1_000,
    // Far beyond the test: only the producer's own teardown can close a connection early.
    requestTimeoutMs: 60_000,
    deadlineMs: 300,
  });
};

test('a send abandoned at its deadline closes every connection of its client at once', async () => {
  const p = producer();
  try {
    const started = Date.now();
    await expect(p.send('t', [message])).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sockets.length).toBeGreaterThan(0);
    await waitFor(() => open() === 0, {
      timeoutMs: 2_000,
      what: 'the abandoned client to close its sockets',
    });
  } finally {
    await p.close();
  }
});

test('the next send after an abandoned one starts a new client (new connection), and is bounded by its own timeout', async () => {
  const p = producer();
  try {
    await expect(p.send('t', [message])).rejects.toBeInstanceOf(KafkaUnavailableError);
    await waitFor(() => open() === 0, { timeoutMs: 2_000, what: 'the first client to close' });
    const before = sockets.length;
    const started = Date.now();
    const second = p.send('t', [message], 150);
    await waitFor(() => sockets.length > before, { timeoutMs: 2_000, what: 'a new connection' });
    await expect(second).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(() => open() === 0, { timeoutMs: 2_000, what: 'the second client to close' });
  } finally {
    await p.close();
  }
});
