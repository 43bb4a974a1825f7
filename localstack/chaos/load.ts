import { waitFor } from '../services/process';
import { type SendTally, sendRecords } from '../tools/generator/send';
import { runSchedule, type Timeline } from './faults';
import type { ChaosPlatform } from './platform';
import type { Fault } from './schedule';

/** The second stage of a chaos run (./run.ts): the load, with the faults. */

export interface LoadOptions {
  readonly records: number;
  /** Records offered per second. */
  readonly rate: number;
  readonly schedule: readonly Fault[];
  /** Seeds the generated records. */
  readonly seed: number;
  /** S3 error share (503 SlowDown) for the whole load, outside the scheduled bursts. */
  readonly s3ErrorShare: number;
  /** Milliseconds the S3 fault proxy adds to every request. */
  readonly s3LatencyMs: number;
  /** Share of records sent one per request (the rest in batches of batchSize). */
  readonly singleShare: number;
  readonly batchSize: number;
  /** Concurrent client requests. */
  readonly clients: number;
  /** Share of invalid records: they must be answered 4xx and never reach the lake. */
  readonly invalidShare: number;
  readonly log: (line: string) => void;
  readonly onProgress?: (tally: SendTally) => void;
}

/** The producers' load through the API while the schedule's faults strike; then the faults are lifted. */
export async function loadWithFaults(platform: ChaosPlatform, options: LoadOptions, timeline: Timeline) {
  const { pipeline, proxy, log } = { ...platform, log: options.log };
  await waitFor(async () => (await fetch(`${pipeline.api.url}/health`)).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: 'the API to report Kafka connected',
  });
  timeline.writes.length = 0; // the load's writes only
  proxy.set({ errorShare: options.s3ErrorShare, status: 503, latencyMs: options.s3LatencyMs });

  log(`load: ${options.records} records at ${options.rate}/s; ${options.schedule.length} faults scheduled`);
  const loadStartedAt = Date.now();
  let loadDone = false;
  const load = sendRecords({
    apiUrl: pipeline.api.url,
    rate: options.rate,
    count: options.records,
    route: 'mixed',
    singleShare: options.singleShare,
    batchSize: options.batchSize,
    concurrency: options.clients,
    invalidShare: options.invalidShare,
    duplicateShare: 0,
    seed: options.seed,
    runId: `chaos${options.seed}`,
    // A real client keeps retrying while the platform recovers; two minutes of retries at most.
    retries: 70,
    maxBackoffMs: 2_000,
    onAnswer: (status, at) => {
      if (status === '200' || status === '207') timeline.accepted.push(at);
    },
    onProgress: options.onProgress,
  }).finally(() => {
    loadDone = true;
  });
  const faults = await runSchedule(
    options.schedule,
    {
      kafka: platform.kafka,
      admin: platform.admin,
      topics: pipeline.topics,
      pipeline,
      proxy,
      baseS3ErrorShare: options.s3ErrorShare,
      supervision: platform.supervision,
      log,
    },
    timeline,
    loadStartedAt,
    () => loadDone,
  );
  const tally = await load;
  proxy.set({ errorShare: 0, latencyMs: 0 });
  return { tally, faults, loadStartedAt, loadEndedAt: Date.now() };
}
