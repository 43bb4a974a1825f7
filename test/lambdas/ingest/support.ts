import type { IngestLimits } from '../../../lambdas/ingest/config';
import { createIngestCore, type IngestCore } from '../../../lambdas/ingest/core';
import type { HttpRequest } from '../../../lambdas/ingest/http';
import type { KafkaMessage, KafkaProducer } from '../../../lambdas/ingest/kafka/producer';
import { KafkaUnavailableError } from '../../../lambdas/ingest/kafka/producer';
import { createRegistry, type DatasetDefinition, type DatasetRegistry } from '../../../schemas';
import { apiGatewayEvent } from '../../support/api-gateway-events';

/** A record built from the definition's examples: valid by construction. */
export function exampleRecord(definition: DatasetDefinition): Record<string, unknown> {
  return Object.fromEntries(Object.entries(definition.fields).map(([name, f]) => [name, f.example]));
}

/**
 * Core unit tests run against this in-memory producer (what was sent, in order); the real kafkajs producer
 * against a real broker is exercised by integration.test.ts.
 */
export function memoryProducer(options: { up?: () => boolean } = {}) {
  const up = options.up ?? (() => true);
  const sends: { topic: string; messages: KafkaMessage[] }[] = [];
  let pings = 0;
  const producer: KafkaProducer = {
    async send(topic, messages) {
      if (!up()) throw new KafkaUnavailableError('broker down');
      sends.push({ topic, messages: [...messages] });
    },
    async ping() {
      pings += 1;
      return up();
    },
    async close() {},
  };
  return { producer, sends, pings: () => pings };
}

export const LIMITS = { maxBodyBytes: 1_048_576, maxBatchRecords: 500 };
export const FIXED_NOW = Date.parse('2026-11-22T00:41:56.789Z');

export function coreWith(
  overrides: {
    registry?: DatasetRegistry;
    producer?: KafkaProducer;
    clock?: () => number;
    limits?: IngestLimits;
  } = {},
): { core: IngestCore; memory: ReturnType<typeof memoryProducer> } {
  const memory = memoryProducer();
  const core = createIngestCore({
    registry: overrides.registry ?? createRegistry(),
    producer: overrides.producer ?? memory.producer,
    clock: overrides.clock ?? (() => FIXED_NOW),
    limits: overrides.limits ?? LIMITS,
  });
  return { core, memory };
}

export function post(path: string, body: unknown, headers: Record<string, string> = {}): HttpRequest {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestId: 'req-1',
  };
}

export function get(path: string): HttpRequest {
  return { method: 'GET', path, headers: {}, body: null, isBase64Encoded: false, requestId: 'req-1' };
}

const TRANSACTION = {
  transaction_id: 'txn-20261122-0001',
  timestamp: '2026-11-22T00:41:55.123456',
  account_id: 'acc-42',
  amount: 125.5,
  currency: 'USD',
  transaction_type: 'debit',
  merchant_id: null,
  category: null,
};
const CLAIM = {
  claim_id: 'clm-20261122-0001',
  timestamp: '2026-11-22T00:41:55.654321',
  policy_number: 'POL-1001',
  claim_amount: 2500,
  claim_type: 'auto',
  claim_status: 'submitted',
  customer_id: 'cust-9',
  incident_date: '2026-11-20',
};

/** The requests a producer of the replaced service sends, as API Gateway events (see test/support). */
export const API_EVENTS = {
  'get-root': () => apiGatewayEvent({ method: 'GET', path: '/' }),
  'get-health': () => apiGatewayEvent({ method: 'GET', path: '/health' }),
  'get-openapi': () => apiGatewayEvent({ method: 'GET', path: '/openapi.json' }),
  'get-unknown-route': () => apiGatewayEvent({ method: 'GET', path: '/ingest-crypto-trade' }),
  'get-ingest-financial-transaction': () =>
    apiGatewayEvent({ method: 'GET', path: '/ingest-financial-transaction' }),
  'post-financial-transaction': () =>
    apiGatewayEvent({ method: 'POST', path: '/ingest-financial-transaction', body: TRANSACTION }),
  'post-financial-transaction-trailing-slash': () =>
    apiGatewayEvent({ method: 'POST', path: '/ingest-financial-transaction/', body: TRANSACTION }),
  'post-financial-transaction-invalid': () =>
    apiGatewayEvent({
      method: 'POST',
      path: '/ingest-financial-transaction',
      body: { ...TRANSACTION, timestamp: 'yesterday', amount: 'ten', currency: 'DOLLARS' },
    }),
  'post-financial-transactions-batch': () =>
    apiGatewayEvent({
      method: 'POST',
      path: '/ingest-financial-transaction/batch',
      body: {
        records: [
          TRANSACTION,
          {
            ...TRANSACTION,
            transaction_id: 'txn-20261122-0002',
            timestamp: '2026-11-22T00:41:55Z',
            merchant_id: 'm-7',
            category: 'groceries',
          },
          { ...TRANSACTION, transaction_id: 12345 },
        ],
      },
    }),
  'post-malformed-json': () =>
    apiGatewayEvent({
      method: 'POST',
      path: '/ingest-financial-transaction',
      body: '{"transaction_id": "t-1", ',
    }),
  'post-form-encoded': () =>
    apiGatewayEvent({
      method: 'POST',
      path: '/ingest-insurance-claim',
      body: 'claim_id=c-1&claim_amount=10',
      contentType: 'application/x-www-form-urlencoded',
    }),
  'post-insurance-claim-base64': () =>
    apiGatewayEvent({
      method: 'POST',
      path: '/ingest-insurance-claim',
      body: CLAIM,
      contentType: 'application/json; charset=utf-8',
      base64: true,
    }),
} as const;
