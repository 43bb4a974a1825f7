import type { IngestResult } from '../http';
import type { KafkaProducer } from '../kafka/producer';
import { reply } from '../reply';

/**
 * GET /health. A produce's outcome is the freshest news of Kafka: /health reports it until a later produce
 * or, once the cache has expired, a ping says otherwise (a ping alone can succeed while produces fail). The
 * cache keeps probes from hammering the cluster.
 */
export class KafkaHealth {
  private last: { at: number; ok: Promise<boolean> } | undefined;

  constructor(
    private readonly producer: KafkaProducer,
    private readonly clock: () => number,
    private readonly cacheMs: number,
  ) {}

  report(ok: boolean): void {
    this.last = { at: this.clock(), ok: Promise.resolve(ok) };
  }

  async answer(): Promise<IngestResult> {
    const now = this.clock();
    if (!this.last || now - this.last.at >= this.cacheMs) this.last = { at: now, ok: this.producer.ping() };
    return (await this.last.ok)
      ? reply(200, { status: 'healthy', kafka_status: 'connected' })
      : reply(503, { status: 'degraded', kafka_status: 'disconnected' });
  }
}
