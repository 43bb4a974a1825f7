import type { Admin } from 'kafkajs';
import type { Pipeline } from '../runtime/pipeline';
import type { KafkaBroker, KafkaNode } from '../services/kafka/broker';
import { waitFor } from '../services/process';
import type { S3FaultProxy } from '../services/s3-fault-proxy';
import type { Supervision } from '../services/supervisor';
import type { LatencySnapshot } from '../tools/lake/latency';
import { describeFault, type Fault } from './schedule';

/**
 * Injects the faults of a schedule into a running platform at their times (broker faults rolling: one node
 * down at a time) and measures how long each took to recover from.
 */

export interface FaultTargets {
  readonly kafka: KafkaBroker;
  /** An admin client of the cluster: partition leaders and in-sync replicas. */
  readonly admin: Admin;
  readonly topics: readonly string[];
  readonly pipeline: Pipeline;
  readonly proxy: S3FaultProxy;
  /** The S3 error share outside the bursts. */
  readonly baseS3ErrorShare: number;
  readonly supervision: Supervision;
  readonly log: (line: string) => void;
}

/** What the runner sees happen, in epoch milliseconds: filled while the load runs. */
export interface Timeline {
  /** Times of the API's 200/207 answers, in order. */
  readonly accepted: number[];
  /** Times the event source mappings committed a batch, by topic. */
  readonly commits: { readonly topic: string; readonly at: number }[];
  /** Restarts by the supervisor. */
  readonly restarts: { readonly process: string; readonly at: number }[];
  /** The accept → Parquet latency of each sink invocation's records during the load, in order. */
  readonly writes: LatencySnapshot[];
}

export interface FaultResult {
  readonly fault: Fault;
  readonly description: string;
  /** The node, process or topic the fault hit. */
  readonly target: string;
  /** When it was injected, from the start of the load. */
  readonly injectedAtMs: number;
  /** From injection until the fault was over: the process restarted, SIGCONT sent, the burst ended. */
  readonly liftedAfterMs?: number;
  /** From injection until the platform was whole again (see `recovery`); undefined: not within the limit. */
  readonly recoveredAfterMs?: number;
  /** What "recovered" means for this fault. */
  readonly recovery: string;
  /** From the fault's end until the API next answered 200 (the ingest's own recovery). */
  readonly first200AfterLiftMs?: number;
  /** The longest stretch without any 200 from the API between injection and recovery. */
  readonly longestGapWithout200Ms?: number;
}

const RECOVERY_LIMIT_MS = 120_000;

export async function runSchedule(
  schedule: readonly Fault[],
  targets: FaultTargets,
  timeline: Timeline,
  loadStartedAt: number,
  shouldStop: () => boolean,
): Promise<FaultResult[]> {
  const running: Promise<FaultResult>[] = [];
  // Broker faults are rolling: the next waits until the node of the previous one is back in sync.
  let previousBrokerFault: Promise<unknown> = Promise.resolve();
  for (const fault of schedule) {
    const wait = loadStartedAt + fault.atMs - Date.now();
    if (wait > 0) await sleepUnless(wait, shouldStop);
    const isBrokerFault = fault.kind === 'broker-kill' || fault.kind === 'broker-freeze';
    if (isBrokerFault) await previousBrokerFault;
    if (shouldStop()) break;
    const result = inject(fault, targets, timeline, loadStartedAt).then((r) => {
      const recovered =
        r.recoveredAfterMs === undefined ? 'NOT recovered' : `recovered in ${seconds(r.recoveredAfterMs)}`;
      targets.log(`fault: ${r.description} → ${r.target}: ${recovered}`);
      return r;
    });
    if (isBrokerFault) previousBrokerFault = result;
    running.push(result);
  }
  return Promise.all(running);
}

async function inject(fault: Fault, targets: FaultTargets, timeline: Timeline, loadStartedAt: number) {
  const injectedAt = Date.now();
  const base = { fault, description: describeFault(fault), injectedAtMs: injectedAt - loadStartedAt };
  const outcome = await (async (): Promise<Omit<FaultResult, keyof typeof base>> => {
    switch (fault.kind) {
      case 'broker-kill':
      case 'broker-freeze':
        return brokerFault(fault, targets, timeline, injectedAt);
      case 'sink-kill':
        return sinkKill(fault, targets, timeline, injectedAt);
      case 'api-kill': {
        const pid = targets.pipeline.api.pid();
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
        const lifted = await restartOf('local API', timeline, injectedAt);
        const first200 = lifted && (await nextAfter(timeline.accepted, lifted));
        return {
          target: `local API (pid ${pid})`,
          liftedAfterMs: lifted && lifted - injectedAt,
          recoveredAfterMs: first200 && first200 - injectedAt,
          recovery: 'restarted and answering 200',
          first200AfterLiftMs: lifted && first200 && first200 - lifted,
        };
      }
      case 's3-errors': {
        // Bursts answer 500 InternalError; the share all along is 503 SlowDown.
        targets.proxy.set({ errorShare: fault.share ?? 1, status: 500 });
        await sleep(fault.durationMs ?? 3_000);
        targets.proxy.set({ errorShare: targets.baseS3ErrorShare, status: 503 });
        const lifted = Date.now();
        const commit = await nextCommit(timeline, lifted);
        return {
          target: 'S3 (fault proxy)',
          liftedAfterMs: lifted - injectedAt,
          recoveredAfterMs: commit && commit - injectedAt,
          recovery: 'a sink batch committed after the burst',
        };
      }
    }
  })();
  const end = outcome.recoveredAfterMs === undefined ? Date.now() : injectedAt + outcome.recoveredAfterMs;
  return { ...base, ...outcome, longestGapWithout200Ms: longestGap(timeline.accepted, injectedAt, end) };
}

async function brokerFault(fault: Fault, targets: FaultTargets, timeline: Timeline, injectedAt: number) {
  const node = await pickNode(fault, targets);
  const pid = node.pid();
  if (pid === undefined) throw new Error(`${node.name} is not running`);
  let lifted: number | undefined;
  if (fault.kind === 'broker-kill') {
    process.kill(pid, 'SIGKILL');
    lifted = await restartOf(node.name, timeline, injectedAt);
  } else {
    process.kill(pid, 'SIGSTOP');
    await sleep(fault.durationMs ?? 3_000);
    process.kill(pid, 'SIGCONT');
    lifted = Date.now();
  }
  const inSync = lifted && (await inSyncEverywhere(node, targets));
  const first200 = lifted && (await nextAfter(timeline.accepted, lifted));
  return {
    target: `${node.name} (pid ${pid})`,
    liftedAfterMs: lifted && lifted - injectedAt,
    recoveredAfterMs: inSync && inSync - injectedAt,
    recovery: 'back in the in-sync replicas of every partition',
    first200AfterLiftMs: lifted && first200 && first200 - lifted,
  };
}

async function pickNode(fault: Fault, targets: FaultTargets): Promise<KafkaNode> {
  const { nodes } = targets.kafka;
  let id = fault.node ?? 'leader';
  if (id === 'leader') {
    const metadata = await targets.admin.fetchTopicMetadata({ topics: [targets.topics[0] as string] });
    id = metadata.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader ?? 1;
  }
  const node = nodes.find((n) => n.id === id);
  if (!node) throw new Error(`The schedule names Kafka node ${id}; the cluster has ${nodes.length}`);
  return node;
}

/** When the node is an in-sync replica of every partition of the platform's topics again. */
async function inSyncEverywhere(node: KafkaNode, targets: FaultTargets): Promise<number | undefined> {
  return waitFor(
    async () => {
      const metadata = await targets.admin.fetchTopicMetadata({ topics: [...targets.topics] });
      const all = metadata.topics.flatMap((t) => t.partitions);
      return all.length > 0 && all.every((p) => p.isr.includes(node.id)) ? Date.now() : undefined;
    },
    { timeoutMs: RECOVERY_LIMIT_MS, intervalMs: 250, what: `${node.name} in sync` },
  ).catch(() => undefined);
}

async function sinkKill(fault: Fault, targets: FaultTargets, timeline: Timeline, injectedAt: number) {
  const { pipeline, proxy } = targets;
  let topic: string | undefined;
  let name: string | undefined;
  let pid: number | undefined;
  if (fault.when === 'between-writes') {
    // Kill the writer after the emulator stored one raw object and before the sink hears so.
    const killed = new Promise<void>((done) => {
      proxy.intercept((request) => {
        const path = decodeURIComponent(request.path);
        const hit = targets.topics.find((t) => path.includes(`${t}+`));
        if (request.method !== 'PUT' || request.status !== 200 || !path.includes('.parquet') || !hit) return;
        // Which poller wrote it is unknown: one of the topic's, as a crash would pick.
        const victim = pipeline.pollersOf(hit)[0];
        if (!victim) return;
        proxy.intercept(undefined);
        topic = hit;
        name = victim.name;
        pid = victim.process.pid;
        process.kill(pid, 'SIGKILL');
        done();
      });
    });
    const wrote = await Promise.race([killed.then(() => true), sleep(30_000).then(() => false)]);
    proxy.intercept(undefined);
    if (!wrote) targets.log('fault: no raw object was written within 30 s; killing a sink process at once');
  }
  if (pid === undefined) {
    // The topic follows from the schedule (reproducible); a sink still restarting is waited for.
    const chosen = targets.topics[fault.atMs % targets.topics.length] as string;
    topic = chosen;
    const victim = await waitFor(() => pipeline.pollersOf(chosen)[0], {
      timeoutMs: RECOVERY_LIMIT_MS,
      intervalMs: 50,
      what: `a poller of the event source mapping of ${chosen} to run`,
    });
    name = victim.name;
    pid = victim.process.pid;
    process.kill(pid, 'SIGKILL');
  }
  // Set by either branch; the proxy's callback hides that from the type checker.
  if (name === undefined) throw new Error('sink-kill: no poller was killed');
  const lifted = await restartOf(name, timeline, injectedAt);
  const commit = lifted && (await nextCommit(timeline, lifted, topic));
  return {
    target: `${name} (pid ${pid})`,
    liftedAfterMs: lifted && lifted - injectedAt,
    recoveredAfterMs: commit && commit - injectedAt,
    recovery: 'restarted and committed a batch',
  };
}

const restartOf = (process: string, timeline: Timeline, after: number) =>
  waitFor(() => timeline.restarts.find((r) => r.process === process && r.at >= after)?.at, {
    timeoutMs: RECOVERY_LIMIT_MS,
    intervalMs: 50,
    what: `${process} to be restarted`,
  }).catch(() => undefined);

const nextAfter = (times: readonly number[], after: number) =>
  waitFor(() => times.find((t) => t > after), { timeoutMs: RECOVERY_LIMIT_MS, intervalMs: 50 }).catch(
    () => undefined,
  );

const nextCommit = (timeline: Timeline, after: number, topic?: string) =>
  waitFor(
    () => timeline.commits.find((c) => c.at > after && (topic === undefined || c.topic === topic))?.at,
    { timeoutMs: RECOVERY_LIMIT_MS, intervalMs: 50 },
  ).catch(() => undefined);

/** The longest interval in [from, to] without an element of `times` (sorted). */
export function longestGap(times: readonly number[], from: number, to: number): number {
  let previous = from;
  let longest = 0;
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, to - previous);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop()) await sleep(Math.min(250, until - Date.now()));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
