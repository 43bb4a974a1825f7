import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  assertPortFree,
  isAlive,
  type Owner,
  type ServiceProcess,
  type StartupAdvice,
  spawnService,
  startupFailure,
  waitFor,
} from '../process';
import { type Supervision, supervise } from '../supervisor';

/**
 * Kafka in KRaft mode (combined broker and controller nodes: one by default, three to rehearse failover)
 * running from the jars that localstack/services/kafka/install.sh resolves from Maven Central.
 */

import { REPO_ROOT as ROOT } from '../../paths';

/** The Kafka version, declared once in localstack/services/kafka/pom.xml. */
export const KAFKA_VERSION = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(
  readFileSync(join(__dirname, 'pom.xml'), 'utf8'),
)?.[1] as string;

export const KAFKA_LIBS = join(ROOT, '.cache', 'kafka', KAFKA_VERSION, 'libs');

export interface KafkaOptions {
  /** Folder for the cluster's data, config and logs (created; `.local/kafka` for the platform). */
  readonly dir: string;
  /** Client listener port of the first node on 127.0.0.1 (default 9092); node i listens on port + 2i. */
  readonly port?: number;
  /** Controller listener port of the first node (default port + 1); node i's is controllerPort + 2i. */
  readonly controllerPort?: number;
  /**
   * Every node's client and controller ports, overriding port/controllerPort (e.g. free ports picked by the
   * caller, which need not follow the +2i pattern).
   */
  readonly ports?: readonly { readonly port: number; readonly controllerPort: number }[];
  /**
   * Nodes in the KRaft cluster (default 1). Each node is a combined broker and controller, so three nodes are
   * a three-voter quorum that survives one node's loss; internal topics then get replication factor 3 and
   * min.insync.replicas 2, as MSK runs them.
   */
  readonly nodes?: number;
  /** Delete existing data first. */
  readonly fresh?: boolean;
  /** JVM heap ceiling per node (default 512m: the machine is shared). */
  readonly heap?: string;
  readonly readyTimeoutMs?: number;
  /** Whose exit ends the processes (see spawnService). */
  readonly owner?: Owner;
  /** When given, a node that dies is restarted with backoff (see ../supervisor.ts). */
  readonly supervision?: Supervision;
}

/** One node of the cluster. Under supervision the process behind it changes with every restart. */
export interface KafkaNode {
  /** KRaft node.id, 1-based. */
  readonly id: number;
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  /** The running process, undefined while a supervised node waits for its restart. */
  pid(): number | undefined;
}

export interface KafkaBroker extends ServiceProcess {
  /** host:port list for clients (KAFKA_BROKERS), every node of the cluster. */
  readonly brokers: string[];
  readonly nodes: readonly KafkaNode[];
}

/** Installs the jars if missing or resolved from another pom.xml (visible Maven progress). */
export function ensureKafkaInstalled(): void {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error('Kafka needs Java 17 or later on PATH (Debian: apt-get install openjdk-17-jre-headless)');
  }
  // Returns at once when the jars were resolved from the current pom.xml.
  execFileSync('bash', [join(__dirname, 'install.sh')], { stdio: 'inherit' });
}

export interface NodeProperties {
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  /** `id@host:port` of every controller, this node's included. */
  readonly voters: readonly string[];
}

export function serverProperties(options: NodeProperties): string {
  const { nodeId, port, controllerPort, dataDir, voters } = options;
  // Internal topics as MSK runs them once there are three nodes; a lone node cannot replicate.
  const replicas = voters.length >= 3 ? 3 : 1;
  const minIsr = voters.length >= 3 ? 2 : 1;
  return `${[
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${voters.join(',')}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=3',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    // A dead or frozen node is fenced, and its partitions get a new leader, within seconds rather than
    // the default 9 s: the local cluster exists to rehearse failover.
    'broker.session.timeout.ms=4000',
    'broker.heartbeat.interval.ms=500',
    'replica.lag.time.max.ms=10000',
    // Topics come from lib/config/topics.ts only, as on MSK.
    'auto.create.topics.enable=false',
    // A lone consumer should not wait 3 s for peers that never come.
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
    // Kafka's default dedupe buffer is one 128 MB array, allocated as the log cleaner starts: inside a node's
    // 256–512 MB heap it fitted only when the heap had that much room at that moment, and the node died of
    // OutOfMemoryError otherwise. A local node compacts __consumer_offsets and test topics: 16 MB holds
    // about 600,000 keys per cleaning pass, and larger logs are cleaned in several passes.
    `log.cleaner.dedupe.buffer.size=${16 * 1024 * 1024}`,
    'log.cleaner.threads=1',
  ].join('\n')}\n`;
}

// No -Xms: a floor above a small node's ceiling stops the JVM before Kafka starts.
const javaArgs = (heap: string): string[] => [
  `-Xmx${heap}`,
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-Djava.awt.headless=true',
  `-Dlog4j.configuration=file:${join(__dirname, 'log4j.properties')}`,
  '-cp',
  join(KAFKA_LIBS, '*'),
];

/** Kafka's Uuid text form (`kafka-storage random-uuid`) without starting a JVM for it. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // Kafka never issues ids starting with '-' (they read as command-line flags).
    if (!id.startsWith('-')) return id;
  }
}

/** Formats a node's KRaft storage (`kafka-storage.sh format`) unless it already is. */
function formatStorage(propertiesFile: string, dataDir: string, clusterId: string): void {
  if (existsSync(join(dataDir, 'meta.properties'))) return;
  execFileSync(
    'java',
    [...javaArgs('256m'), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** The cluster id the nodes were formatted with, so a restart of a kept cluster formats no stranger. */
function clusterIdOf(dir: string, nodes: number): string {
  for (let id = 1; id <= nodes; id += 1) {
    const meta = join(dir, `node-${id}`, 'data', 'meta.properties');
    if (!existsSync(meta)) continue;
    const found = /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))?.[1];
    if (found) return found;
  }
  return randomClusterId();
}

/**
 * Starts a KRaft cluster of `nodes` combined broker-controllers (default one) and resolves once an admin
 * client can describe it with every node registered. Node i keeps its data in `<dir>/node-<i>/`.
 */
export async function startKafka(options: KafkaOptions): Promise<KafkaBroker> {
  ensureKafkaInstalled();
  const count = options.ports?.length ?? options.nodes ?? 1;
  const basePort = options.port ?? 9092;
  const baseController = options.controllerPort ?? basePort + 1;
  const ports = Array.from(
    { length: count },
    (_, i) => options.ports?.[i] ?? { port: basePort + 2 * i, controllerPort: baseController + 2 * i },
  );
  const dir = resolve(options.dir);
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  for (const p of ports) {
    await assertPortFree(p.port, 'Kafka');
    await assertPortFree(p.controllerPort, 'Kafka controller');
  }
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controllerPort}`);
  const clusterId = clusterIdOf(dir, count);
  const heap = options.heap ?? '512m';

  const nodes = ports.map((p, i) => {
    const nodeId = i + 1;
    const nodeDir = count === 1 ? dir : join(dir, `node-${nodeId}`);
    const dataDir = join(nodeDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const propertiesFile = join(nodeDir, 'server.properties');
    writeFileSync(propertiesFile, serverProperties({ nodeId, ...p, dataDir, voters }));
    formatStorage(propertiesFile, dataDir, clusterId);
    const name = count === 1 ? 'Kafka' : `Kafka node ${nodeId}`;
    const logFile = join(nodeDir, 'kafka.log');
    const spawnNode = async () =>
      spawnService(name, 'java', [...javaArgs(heap), 'kafka.Kafka', propertiesFile], {
        logFile,
        owner: options.owner,
      });
    return { nodeId, name, logFile, port: p.port, spawnNode };
  });

  // Started together: a KRaft quorum of three cannot elect a leader until a majority of voters is up.
  const running = await Promise.all(
    nodes.map(async (node) => {
      if (!options.supervision) {
        const service = await node.spawnNode();
        return { node, current: () => service as ServiceProcess | undefined, stop: () => service.stop() };
      }
      const supervised = await supervise(node.name, node.spawnNode, options.supervision);
      return { node, current: () => supervised.current(), stop: () => supervised.stop() };
    }),
  );
  const first = running[0]?.current() as ServiceProcess;
  const brokers = ports.map((p) => `127.0.0.1:${p.port}`);
  const stop = async () => {
    await Promise.all(running.map((r) => r.stop()));
  };
  const broker: KafkaBroker = {
    name: count === 1 ? 'Kafka' : `Kafka (${count} nodes)`,
    pid: first.pid,
    logFile: first.logFile,
    brokers,
    nodes: running.map(({ node, current }) => ({
      id: node.nodeId,
      name: node.name,
      port: node.port,
      logFile: node.logFile,
      pid: () => current()?.pid,
    })),
    stop,
  };
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  try {
    await waitForKafka(brokers, {
      timeoutMs,
      expectedNodes: count,
      abort: () => {
        for (const r of running) {
          const service = r.current();
          if (!options.supervision && service && !isAlive(service.pid)) {
            return startupFailure(service.name, service.logFile, startupAdvice(heap));
          }
        }
        return undefined;
      },
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return broker;
}

/** What to do about the usual reasons a node dies while starting. */
const startupAdvice = (heap: string): StartupAdvice[] => [
  {
    match: /OutOfMemoryError/,
    advice: `the node's ${heap} heap is too small for what it allocates: give it more (startKafka's \`heap\`) or free memory (\`free -h\`)`,
  },
  {
    match: /Address already in use/,
    advice:
      'another process holds one of its ports: `npx tsx localstack/services/cli.ts status` shows a platform left running',
  },
  {
    match: /InconsistentClusterIdException|Invalid cluster\.id/,
    advice: 'its data folder belongs to another cluster: start with --fresh (deletes the local Kafka data)',
  },
  {
    match: /UnsupportedClassVersionError/,
    advice: 'Kafka needs Java 17 or later on PATH (Debian: apt-get install openjdk-17-jre-headless)',
  },
];

/**
 * Resolves once the cluster has a controller and a group coordinator (asking for one creates
 * __consumer_offsets), so the first consumer group does not meet COORDINATOR_NOT_AVAILABLE.
 */
export async function waitForKafka(
  brokers: string[],
  options: { timeoutMs: number; expectedNodes?: number; abort?: () => string | undefined },
): Promise<void> {
  const admin = new Kafka({
    clientId: 'lakehouse-readiness',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
  }).admin();
  try {
    await waitFor(
      async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length < (options.expectedNodes ?? 1) || cluster.controller === null)
          return false;
        await admin.describeGroups(['lakehouse-readiness']);
        return true;
      },
      { ...options, intervalMs: 200, what: `Kafka on ${brokers.join(',')}` },
    );
  } finally {
    await admin.disconnect();
  }
}
