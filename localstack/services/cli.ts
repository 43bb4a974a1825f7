import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type EnvironmentConfig, environmentConfig } from '../../lib/config/environments';
import { topicSpecs } from '../../lib/config/topics';
import { DATASETS } from '../../schemas';
import { startLocalStack } from './emulator/localstack';
import { type AwsEmulator, startMoto } from './emulator/moto';
import { provisionLake } from './emulator/provision';
import { type KafkaBroker, startKafka } from './kafka/broker';
import { ensureTopics } from './kafka/topics';
import { freePort, isAlive, type Owner, stopProcess, waitFor } from './process';
import type { Supervision } from './supervisor';

/**
 * The real local services of the platform: one Kafka broker and one AWS emulator, started as host
 * processes, with the topics and the lake created from the same definitions the CDK uses.
 * Programmatic: `startServices(options)`. Humans: `npx tsx localstack/services/cli.ts start|stop|status`.
 */

import { REPO_ROOT as ROOT } from '../paths';
import { EMULATORS, type EmulatorKind, localSettings } from '../settings';
export const DEFAULT_DIR = join(ROOT, '.local');

export interface ServicesOptions {
  /** Folder for data and logs (default .local); kafka/ and aws/ live inside. */
  readonly dir?: string;
  /** A port, or 'free' for any free port. Defaults: LAKEHOUSE_KAFKA_PORT or 9092. */
  readonly kafkaPort?: number | 'free';
  /** A port, or 'free'. Defaults: LAKEHOUSE_AWS_PORT or 4566. */
  readonly awsPort?: number | 'free';
  /** Start Kafka (default true). */
  readonly kafka?: boolean;
  /**
   * Kafka nodes (default 1). Three run a KRaft cluster with the production topic settings (replication
   * factor and min.insync.replicas of the prod environment), for failover tests and `npm run chaos`.
   */
  readonly brokers?: number;
  /**
   * Restarts a Kafka node that dies (see ./supervisor.ts). Only a long-lived owner can supervise: the CLI's
   * background `start` leaves its processes unsupervised.
   */
  readonly supervision?: Supervision;
  /** Start the AWS emulator (default true). */
  readonly aws?: boolean;
  /** Default: LAKEHOUSE_EMULATOR or 'moto'. */
  readonly emulator?: EmulatorKind;
  /** Wipe the folder's previous data first. */
  readonly fresh?: boolean;
  /** Whose exit ends the services: default this process; 'none' keeps them until stopServices. */
  readonly owner?: Owner;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

export interface Services {
  readonly kafka?: KafkaBroker;
  readonly aws?: AwsEmulator;
  /** Variables the platform's processes and tests read: KAFKA_BROKERS, AWS_ENDPOINT_URL, AWS_* credentials. */
  readonly env: Record<string, string>;
  /** Stops everything this call started and waits until the processes are gone. */
  stop(): Promise<void>;
}

interface StateFile {
  readonly pids: { name: string; pid: number; marker: string }[];
  readonly env: Record<string, string>;
}

const LOCAL = environmentConfig('local');
/** A multi-node local cluster replicates its topics as production does. */
const CLUSTER: EnvironmentConfig = {
  ...LOCAL,
  topics: {
    ...LOCAL.topics,
    replicationFactor: environmentConfig('prod').topics.replicationFactor,
    minInsyncReplicas: environmentConfig('prod').topics.minInsyncReplicas,
  },
};
const stateFile = (dir: string) => join(dir, 'services.json');

async function port(value: number | 'free' | undefined, fallback: number): Promise<number> {
  if (value === 'free') return freePort();
  return value ?? fallback;
}

/** n distinct ports that are free right now. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

export async function startServices(options: ServicesOptions = {}): Promise<Services> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = resolve(options.dir ?? DEFAULT_DIR);
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const settings = localSettings();
  const emulator = options.emulator ?? settings.emulator;

  const started: (KafkaBroker | AwsEmulator)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(started.map((service) => service.stop()));
    rmSync(stateFile(dir), { force: true });
  };
  // The pids of every running process (a restarted Kafka node has a new one), for `services.ts stop`.
  const writeState = (env: Record<string, string>) => {
    if (stopping) return;
    const pids = started.flatMap((s) =>
      'nodes' in s
        ? s.nodes.flatMap((n) => {
            const pid = n.pid();
            return pid === undefined ? [] : [{ name: n.name, pid, marker: 'kafka.Kafka' }];
          })
        : [{ name: s.name, pid: s.pid, marker: emulator }],
    );
    writeFileSync(stateFile(dir), JSON.stringify({ pids, env } satisfies StateFile, null, 2));
  };
  try {
    // allSettled: when one fails, the other must finish starting before stop() can end it.
    const [kafkaResult, awsResult] = await Promise.allSettled([
      options.kafka === false ? undefined : startBroker(),
      options.aws === false ? undefined : startEmulator(),
    ]);
    if (kafkaResult.status === 'rejected') throw kafkaResult.reason;
    if (awsResult.status === 'rejected') throw awsResult.reason;
    const [kafka, aws] = [kafkaResult.value, awsResult.value];
    const env: Record<string, string> = {};
    if (kafka) env.KAFKA_BROKERS = kafka.brokers.join(',');
    if (aws) {
      Object.assign(env, {
        AWS_ENDPOINT_URL: aws.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: LOCAL.region,
      });
    }
    writeState(env);
    options.supervision?.onRestart(() => writeState(env));
    return { kafka, aws, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }

  async function startBroker(): Promise<KafkaBroker> {
    const nodes = options.brokers ?? 1;
    const free = options.kafkaPort === 'free' ? await freePorts(2 * nodes) : undefined;
    const kafkaPort = free?.[0] ?? (await port(options.kafkaPort, settings.kafkaPort));
    const t0 = performance.now();
    const what = nodes === 1 ? 'Kafka' : `Kafka (${nodes}-node KRaft cluster)`;
    log(`${what}: starting on 127.0.0.1:${kafkaPort} (data in ${join(dir, 'kafka')})`);
    const broker = await startKafka({
      dir: join(dir, 'kafka'),
      nodes,
      port: kafkaPort,
      ports:
        free &&
        Array.from({ length: nodes }, (_, i) => ({
          port: free[2 * i] as number,
          controllerPort: free[2 * i + 1] as number,
        })),
      owner: options.owner,
      supervision: options.supervision,
    });
    started.push(broker);
    log(`${what}: ready in ${seconds(t0)} (${broker.brokers.join(',')})`);
    await provisionTopics(broker.brokers, log, nodes > 1 ? CLUSTER : LOCAL);
    return broker;
  }

  async function startEmulator(): Promise<AwsEmulator> {
    const start = { moto: startMoto, localstack: startLocalStack }[emulator];
    if (!start) throw new Error(`Unknown emulator "${emulator}" (use ${EMULATORS.join(' or ')})`);
    const awsPort = await port(options.awsPort, settings.awsPort);
    const t0 = performance.now();
    log(`AWS emulator (${emulator}): starting on 127.0.0.1:${awsPort}`);
    const aws = await start({ dir: join(dir, 'aws'), port: awsPort, owner: options.owner });
    started.push(aws);
    log(`AWS emulator (${emulator}): ready in ${seconds(t0)}`);
    await provisionAws(aws.endpoint, log);
    return aws;
  }
}

/** Creates the dataset topics (lib/config/topics.ts) on a running broker; idempotent. */
export async function provisionTopics(
  brokers: string[],
  log: (line: string) => void,
  config: EnvironmentConfig = LOCAL,
): Promise<void> {
  // Idempotent, so retried: a cluster that has just formed can still answer "does not host this
  // topic-partition" while its first leaders are elected.
  const topics = await waitFor(() => ensureTopics(brokers, topicSpecs(config, DATASETS)), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'the topics to be created',
  });
  log(
    `Kafka: topics created [${topics.created.join(', ')}], already present [${topics.existing.join(', ')}]`,
  );
}

/** Creates the lake buckets and Glue database (lib/config/lake.ts) in a running emulator; idempotent. */
export async function provisionAws(endpoint: string, log: (line: string) => void): Promise<void> {
  const lake = await provisionLake(LOCAL, endpoint);
  log(`AWS emulator: buckets [${lake.buckets.join(', ')}], Glue database ${lake.database} ${lake.catalog}`);
}

function readState(dir: string): StateFile | undefined {
  const file = stateFile(dir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StateFile) : undefined;
}

/** True when pid is alive and still the process we started (pids get reused after a reboot). */
function isOurs(entry: StateFile['pids'][number]): boolean {
  if (!isAlive(entry.pid)) return false;
  const cmdline = `/proc/${entry.pid}/cmdline`;
  return !existsSync(cmdline) || readFileSync(cmdline, 'utf8').includes(entry.marker);
}

/** Stops services a previous `start` (possibly another process) left running in dir. */
export async function stopServices(dir = DEFAULT_DIR): Promise<string[]> {
  const state = readState(resolve(dir));
  const running = (state?.pids ?? []).filter(isOurs);
  await Promise.all(running.map((entry) => stopProcess(entry.pid)));
  rmSync(stateFile(resolve(dir)), { force: true });
  return running.map((entry) => entry.name);
}

export function servicesStatus(dir = DEFAULT_DIR): { name: string; pid: number; running: boolean }[] {
  return (readState(resolve(dir))?.pids ?? []).map((entry) => ({ ...entry, running: isOurs(entry) }));
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'kafka-port': { type: 'string' },
      'aws-port': { type: 'string' },
      fresh: { type: 'boolean' },
      'print-env': { type: 'boolean' },
      brokers: { type: 'string' },
      endpoint: { type: 'string' },
      owner: { type: 'string' },
      emulator: { type: 'string' },
    },
  });
  const dir = values.dir ?? DEFAULT_DIR;
  const portArg = (value: string | undefined) =>
    value === 'free' ? 'free' : value ? Number(value) : undefined;
  switch (positionals[0]) {
    case 'start': {
      const services = await startServices({
        dir,
        kafkaPort: portArg(values['kafka-port']),
        awsPort: portArg(values['aws-port']),
        fresh: values.fresh,
        brokers: values.brokers ? Number(values.brokers) : undefined,
        emulator: values.emulator as EmulatorKind | undefined,
        owner: values.owner ? Number(values.owner) : 'none',
      });
      for (const [name, value] of Object.entries(services.env)) {
        // stdout carries only the exports (for eval); humans read the same on stderr.
        if (values['print-env']) process.stdout.write(`export ${name}=${shellQuote(value)}\n`);
        else process.stderr.write(`  ${name}=${value}\n`);
      }
      process.stderr.write(
        `Running in the background; stop with: npx tsx localstack/services/cli.ts stop --dir ${dir}\n`,
      );
      break;
    }
    case 'provision': {
      // For services run elsewhere (e.g. the Docker compose profile): topics and lake only.
      const log = (line: string) => process.stderr.write(`${line}\n`);
      await provisionTopics((values.brokers ?? '127.0.0.1:9092').split(','), log);
      await provisionAws(values.endpoint ?? 'http://127.0.0.1:4566', log);
      break;
    }
    case 'stop': {
      const stopped = await stopServices(dir);
      process.stderr.write(stopped.length ? `Stopped ${stopped.join(', ')}\n` : 'Nothing running\n');
      break;
    }
    case 'status': {
      const status = servicesStatus(dir);
      if (status.length === 0) process.stdout.write('Nothing started\n');
      for (const s of status)
        process.stdout.write(`${s.name}: pid ${s.pid} ${s.running ? 'running' : 'not running'}\n`);
      const env = readState(resolve(dir))?.env ?? {};
      for (const [name, value] of Object.entries(env)) process.stdout.write(`  ${name}=${value}\n`);
      break;
    }
    default:
      process.stderr.write(
        [
          'Usage: npx tsx localstack/services/cli.ts <command>',
          '  start  [--dir D] [--kafka-port N|free] [--aws-port N|free] [--emulator moto|localstack] [--fresh]',
          '         [--brokers N: a KRaft cluster of N nodes, production topic settings when N >= 3]',
          '         [--print-env] [--owner PID: stop the services when PID exits]',
          '  stop   [--dir D]',
          '  status [--dir D]',
          '  provision [--brokers host:port] [--endpoint URL]   topics and lake on services run elsewhere',
          '',
        ].join('\n'),
      );
      process.exitCode = 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
