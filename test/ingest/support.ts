import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { IngestLimits } from '../../lambdas/ingest/config';
import { createIngestCore, type HttpRequest, type IngestCore } from '../../lambdas/ingest/core';
import type { KafkaMessage, KafkaProducer } from '../../lambdas/shared/kafka/producer';
import { KafkaUnavailableError } from '../../lambdas/shared/kafka/producer';
import { createRegistry, type DatasetDefinition, type DatasetRegistry } from '../../schemas';

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

export function fixture(name: string): APIGatewayProxyEvent {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as APIGatewayProxyEvent;
}
