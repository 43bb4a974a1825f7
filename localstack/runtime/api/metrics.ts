import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ObservedRequest {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
}

export interface RenderedMetrics {
  readonly contentType: string;
  readonly body: string;
}

/** What the local API records and serves: PlatformMetrics itself, or its proxy in the API process. */
export interface ApiMetrics {
  observeRequest(request: ObservedRequest): void;
  render(): Promise<RenderedMetrics>;
}

/**
 * The local platform's Prometheus metrics, served at `/metrics` by the local API. The API, the event source
 * mapping and the lake probe all record into one registry so a single scrape shows the whole pipeline.
 */
export class PlatformMetrics implements ApiMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'lakehouse_api_requests_total',
    help: 'HTTP requests answered by the local API, by route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'lakehouse_api_request_duration_seconds',
    help: 'Time from request received to response sent, including the ingest handler.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly recordsProduced = new Counter({
    name: 'lakehouse_records_produced_total',
    help: 'Records the ingest handler accepted (acknowledged by Kafka), by dataset.',
    labelNames: ['dataset'] as const,
    registers: [this.registry],
  });

  readonly recordsRejected = new Counter({
    name: 'lakehouse_records_rejected_total',
    help: 'Records the ingest handler rejected as invalid, by dataset.',
    labelNames: ['dataset'] as const,
    registers: [this.registry],
  });

  readonly sinkInvocations = new Counter({
    name: 'lakehouse_sink_invocations_total',
    help: 'Sink handler invocations by the local event source mapping, by topic and outcome.',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly sinkDuration = new Histogram({
    name: 'lakehouse_sink_invocation_duration_seconds',
    help: 'Duration of sink handler invocations by the local event source mapping, by topic.',
    labelNames: ['topic'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly sinkBatchSize = new Histogram({
    name: 'lakehouse_sink_batch_records',
    help: 'Records per sink handler invocation, by topic.',
    labelNames: ['topic'] as const,
    buckets: [1, 10, 100, 500, 1_000, 2_500, 5_000, 10_000],
    registers: [this.registry],
  });

  readonly acceptToParquet = new Histogram({
    name: 'lakehouse_accept_to_parquet_seconds',
    help: 'Per record: sink invocation that wrote it returned successfully minus its _ingest_time.',
    buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly sinkRecords = new Counter({
    name: 'lakehouse_sink_records_total',
    help: 'Records delivered to the sink handler and committed, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'lakehouse_consumer_lag_messages',
    help: 'Messages between the sink consumer group committed offset and the log end, by topic and partition.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  readonly lakeObjects = new Gauge({
    name: 'lakehouse_lake_objects',
    help: 'Objects in each lake bucket (raw Parquet files, sink quarantine files, ...), by zone.',
    labelNames: ['zone'] as const,
    registers: [this.registry],
  });

  readonly processRestarts = new Counter({
    name: 'lakehouse_process_restarts_total',
    help: 'Processes of the local platform (Kafka nodes, event source mappings, the API) restarted by the supervisor after they died.',
    labelNames: ['process'] as const,
    registers: [this.registry],
  });

  /** Refreshes gauges that are measured at scrape time (consumer lag, lake objects). */
  private readonly probes: Array<() => Promise<void>> = [];

  addProbe(probe: () => Promise<void>): void {
    this.probes.push(probe);
  }

  observeRequest(request: ObservedRequest): void {
    const { method, route, status, seconds } = request;
    this.requests.inc({ method, route, status: String(status) });
    this.requestDuration.observe({ route }, seconds);
  }

  async render(): Promise<RenderedMetrics> {
    // A failing probe leaves its gauge at the last value rather than failing the scrape.
    await Promise.allSettled(this.probes.map((probe) => probe()));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
