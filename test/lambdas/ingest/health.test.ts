/**
 * GET /health tells the truth (issue 10): never `healthy` while produces fail, even when a metadata ping
 * to the cluster succeeds (a broker can answer metadata and still refuse every produce).
 */
import { createIngestCore } from '../../../lambdas/ingest/core';
import type { KafkaProducer } from '../../../lambdas/ingest/kafka/producer';
import { KafkaUnavailableError } from '../../../lambdas/ingest/kafka/producer';
import { createRegistry, financialTransactions } from '../../../schemas';
import { exampleRecord, get, LIMITS, post } from './support';

function setup() {
  let now = 1_000_000;
  let produces = true;
  let pings = 0;
  const producer: KafkaProducer = {
    async send() {
      if (!produces) throw new KafkaUnavailableError('OUT_OF_ORDER_SEQUENCE_NUMBER');
    },
    async ping() {
      pings += 1;
      return true;
    },
    async close() {},
  };
  const core = createIngestCore({
    registry: createRegistry(),
    producer,
    clock: () => now,
    limits: LIMITS,
    healthCacheMs: 5_000,
  });
  return {
    health: async () => {
      const { response } = await core(get('/health'));
      return [response.statusCode, JSON.parse(response.body).status];
    },
    ingest: async () =>
      (await core(post(financialTransactions.route, exampleRecord(financialTransactions)))).response
        .statusCode,
    setProduces: (ok: boolean) => {
      produces = ok;
    },
    advance: (ms: number) => {
      now += ms;
    },
    pings: () => pings,
  };
}

test('a failed produce makes /health degraded at once, although the last ping succeeded', async () => {
  const s = setup();
  expect(await s.health()).toEqual([200, 'healthy']);
  s.setProduces(false);
  expect(await s.ingest()).toBe(503);
  expect(await s.health()).toEqual([503, 'degraded']);
});

test('degraded while produces keep failing; healthy again after a produce succeeds', async () => {
  const s = setup();
  s.setProduces(false);
  for (let i = 0; i < 3; i++) {
    expect(await s.ingest()).toBe(503);
    s.advance(4_000);
    expect(await s.health()).toEqual([503, 'degraded']);
  }
  s.setProduces(true);
  expect(await s.ingest()).toBe(200);
  expect(await s.health()).toEqual([200, 'healthy']);
});

test('without traffic, a successful ping after the cache period clears a produce failure', async () => {
  const s = setup();
  s.setProduces(false);
  expect(await s.ingest()).toBe(503);
  const pings = s.pings();
  expect(await s.health()).toEqual([503, 'degraded']);
  expect(s.pings()).toBe(pings);
  s.advance(5_000);
  expect(await s.health()).toEqual([200, 'healthy']);
  expect(s.pings()).toBe(pings + 1);
});
