/**
 * The one reader of the local platform's LAKEHOUSE_* variables: what a user may set, their defaults, and
 * the internal hand-over of settings to the platform's child processes.
 */
export const LOCAL_ENV = {
  apiPort: 'LAKEHOUSE_API_PORT',
  kafkaPort: 'LAKEHOUSE_KAFKA_PORT',
  awsPort: 'LAKEHOUSE_AWS_PORT',
  emulator: 'LAKEHOUSE_EMULATOR',
  /** Where the generator and the smoke test send records (default: the local API's port). */
  apiUrl: 'LAKEHOUSE_API_URL',
  /** delta (default) or iceberg: the format of the local lake's tables (npm start --table-format). */
  tableFormat: 'LAKEHOUSE_TABLE_FORMAT',
} as const;

import { TABLE_FORMATS, type TableFormat } from '../lib/config/environments';

export const EMULATORS = ['moto', 'localstack'] as const;
export type EmulatorKind = (typeof EMULATORS)[number];

export interface LocalSettings {
  readonly apiPort: number;
  readonly kafkaPort: number;
  readonly awsPort: number;
  readonly emulator: EmulatorKind;
  readonly apiUrl: string;
  readonly tableFormat: TableFormat;
}

function portOf(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(
      `${name} must be a port number (0-65535), got "${text}"; unset it for the default ${fallback}`,
    );
  }
  return port;
}

export function localSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const emulator = env[LOCAL_ENV.emulator] || 'moto';
  if (!(EMULATORS as readonly string[]).includes(emulator)) {
    throw new Error(`${LOCAL_ENV.emulator} is "${emulator}": use ${EMULATORS.join(' or ')}`);
  }
  const tableFormat = env[LOCAL_ENV.tableFormat] || 'delta';
  if (!(TABLE_FORMATS as readonly string[]).includes(tableFormat)) {
    throw new Error(`${LOCAL_ENV.tableFormat} is "${tableFormat}": use ${TABLE_FORMATS.join(' or ')}`);
  }
  const apiPort = portOf(env, LOCAL_ENV.apiPort, 8000);
  return {
    apiPort,
    kafkaPort: portOf(env, LOCAL_ENV.kafkaPort, 9092),
    awsPort: portOf(env, LOCAL_ENV.awsPort, 4566),
    emulator: emulator as EmulatorKind,
    apiUrl: env[LOCAL_ENV.apiUrl] || `http://127.0.0.1:${apiPort}`,
    tableFormat: tableFormat as TableFormat,
  };
}

/** Variables that carry a child process's settings (JSON) from the process that forks it. */
export const CHILD_CONFIG_ENV = { api: 'LAKEHOUSE_API', eventSourceMapping: 'LAKEHOUSE_ESM' } as const;

export function childConfigEnv(name: keyof typeof CHILD_CONFIG_ENV, config: unknown): Record<string, string> {
  return { [CHILD_CONFIG_ENV[name]]: JSON.stringify(config) };
}

/** The settings the parent handed over; a clear error when a process was started by hand without them. */
export function childConfig<T>(name: keyof typeof CHILD_CONFIG_ENV, env: NodeJS.ProcessEnv = process.env): T {
  const text = env[CHILD_CONFIG_ENV[name]];
  if (!text)
    throw new Error(
      `${CHILD_CONFIG_ENV[name]} is not set: this process is started by npm start, not by hand`,
    );
  return JSON.parse(text) as T;
}
