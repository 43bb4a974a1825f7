import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  assertPortFree,
  type Owner,
  type ServiceProcess,
  spawnService,
  waitFor,
  whenReady,
} from '../process';

/**
 * A single-node Kafka (KRaft, combined broker and controller) running from the jars that
 * localstack/kafka/install.sh resolves from Maven Central.
 */

const ROOT = resolve(__dirname, '../..');

/** The Kafka version, declared once in localstack/kafka/pom.xml. */
export const KAFKA_VERSION = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(
  readFileSync(join(__dirname, 'pom.xml'), 'utf8'),
)?.[1] as string;

export const KAFKA_LIBS = join(ROOT, '.cache', 'kafka', KAFKA_VERSION, 'libs');

export interface KafkaOptions {
  /** Folder for the broker's data, config and log (created; `.local/kafka` for the platform). */
  readonly dir: string;
  /** Client listener port on 127.0.0.1 (default 9092). */
  readonly port?: number;
  /** Controller listener port on 127.0.0.1 (default port + 1). */
  readonly controllerPort?: number;
  /** Delete existing data first. */
  readonly fresh?: boolean;
  /** JVM heap ceiling (default 512m: the machine is shared). */
  readonly heap?: string;
  readonly readyTimeoutMs?: number;
  /** Whose exit ends the process (see spawnService). */
  readonly owner?: Owner;
}

export interface KafkaBroker extends ServiceProcess {
  /** host:port list for clients (KAFKA_BROKERS). */
  readonly brokers: string[];
}

/** Installs the jars if missing (visible Maven progress). */
export function ensureKafkaInstalled(): void {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error('Kafka needs Java 17 or later on PATH (Debian: apt-get install openjdk-17-jre-headless)');
  }
  if (!existsSync(join(KAFKA_LIBS, '.complete'))) {
    execFileSync('bash', [join(__dirname, 'install.sh')], { stdio: 'inherit' });
  }
}

export function serverProperties(options: { port: number; controllerPort: number; dataDir: string }): string {
  const { port, controllerPort, dataDir } = options;
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // One node: internal topics cannot have more than one replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // Topics come from lib/config/topics.ts only, as on MSK.
    'auto.create.topics.enable=false',
    // A lone consumer should not wait 3 s for peers that never come.
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
  ].join('\n')}\n`;
}

const javaArgs = (heap: string): string[] => [
  `-Xmx${heap}`,
  '-Xms128m',
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

/** Formats the KRaft storage (`kafka-storage.sh format`) unless it already is. */
function formatStorage(propertiesFile: string, dataDir: string): void {
  if (existsSync(join(dataDir, 'meta.properties'))) return;
  execFileSync(
    'java',
    [...javaArgs('256m'), 'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', propertiesFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** Starts the broker and resolves once an admin client can describe the cluster. */
export async function startKafka(options: KafkaOptions): Promise<KafkaBroker> {
  ensureKafkaInstalled();
  const port = options.port ?? 9092;
  const controllerPort = options.controllerPort ?? port + 1;
  const dir = resolve(options.dir);
  const dataDir = join(dir, 'data');
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  await assertPortFree(port, 'Kafka');
  await assertPortFree(controllerPort, 'Kafka controller');
  mkdirSync(dataDir, { recursive: true });
  const propertiesFile = join(dir, 'server.properties');
  writeFileSync(propertiesFile, serverProperties({ port, controllerPort, dataDir }));
  formatStorage(propertiesFile, dataDir);

  const service = spawnService(
    'Kafka',
    'java',
    [...javaArgs(options.heap ?? '512m'), 'kafka.Kafka', propertiesFile],
    { logFile: join(dir, 'kafka.log'), owner: options.owner },
  );
  const brokers = [`127.0.0.1:${port}`];
  const broker: KafkaBroker = { ...service, brokers };
  await whenReady(service, (abort) =>
    waitForKafka(brokers, { timeoutMs: options.readyTimeoutMs ?? 180_000, abort }),
  );
  return broker;
}

/**
 * Resolves once the cluster has a controller and a group coordinator (asking for one creates
 * __consumer_offsets), so the first consumer group does not meet COORDINATOR_NOT_AVAILABLE.
 */
export async function waitForKafka(
  brokers: string[],
  options: { timeoutMs: number; abort?: () => string | undefined },
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
        if (cluster.brokers.length === 0 || cluster.controller === null) return false;
        await admin.describeGroups(['lakehouse-readiness']);
        return true;
      },
      { ...options, intervalMs: 200, what: `Kafka on ${brokers.join(',')}` },
    );
  } finally {
    await admin.disconnect();
  }
}
