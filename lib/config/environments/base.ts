/**
 * What the deployable environments share, and how an environment's overrides are laid over it, so that
 * each states only where it differs (deployable.ts).
 */

import { DEFAULT_INGEST_LIMITS } from '../../../lambdas/ingest/config';
import type { DeployableConfig } from './config';
import { type AlarmSettings, SMOKE_PRODUCER } from './settings';

/** The alarms' objectives: every environment's, the local platform's too. */
export const ALARMS: AlarmSettings = {
  ingestLatencyP99Ms: 5_000,
  consumerLagMessages: 10_000,
  jobDurationMinutes: 60,
  rejectedRatio: 0.001,
  api5xxRatio: 0.0001,
};

/** Any part of `T`, nested objects in part too (arrays only whole). */
export type Overrides<T> = {
  readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : Overrides<T[K]>;
};

/** `base` with `overrides` laid over it, object by object (arrays and scalars are replaced whole). */
export function overlay<T extends object>(base: T, overrides: Overrides<T>): T {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const under = merged[key];
    const nested = value && typeof value === 'object' && !Array.isArray(value);
    merged[key] = nested && under && typeof under === 'object' ? overlay(under, value) : value;
  }
  return merged as T;
}

/** What staging and prod share; dev overrides towards small and cheap. */
const BASE: Omit<DeployableConfig, 'name' | 'account' | 'prefix' | 'msk'> = {
  region: 'eu-west-1',
  availabilityZones: 3,
  // MSK Serverless fixes replication at 3 and min.insync.replicas at 2; provisioned clusters use the same.
  topics: { partitions: 6, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: 168 },
  ingest: {
    memoryMb: 1024,
    timeoutSeconds: 10,
    ...DEFAULT_INGEST_LIMITS,
    throttleRatePerSecond: 1_000,
    throttleBurst: 2_000,
    quotaPerDay: 10_000_000,
    readThrottleRatePerSecond: 50,
    readThrottleBurst: 100,
    producers: [{ name: SMOKE_PRODUCER, quotaPerDay: 100_000 }, { name: 'payments' }, { name: 'claims' }],
    wafRateLimitPer5Min: 50_000,
    waf: true,
  },
  sink: {
    memoryMb: 2048,
    timeoutSeconds: 120,
    batchSize: 10_000,
    // Lambda's default: half the accept → Parquet latency of 1 s, for twice the invocations and raw files
    // while records trickle in (a busy partition fills its 6 MB first either way).
    maxBatchingWindowSeconds: 0.5,
    startingPosition: 'TRIM_HORIZON',
    maxRetryAttempts: 20,
    minPollers: 1,
    maxPollers: 4,
  },
  lake: {
    rawInfrequentAccessDays: 30,
    rawGlacierDays: 180,
    noncurrentVersionExpirationDays: 30,
    accessLogExpirationDays: 90,
    goldMinGroupCount: 10,
    icebergTableOptimizers: false,
  },
  tableFormat: 'delta',
  logRetentionDays: 90,
  natGateways: 3,
  services: {
    flowLogs: true,
    glueSecurityConfiguration: true,
    schemaRegistry: true,
    emrServerless: true,
    mwaa: true,
    grafana: true,
    metricMathAlarms: true,
    bucketDeployments: true,
  },
  processing: {
    glueWorkerType: 'G.1X',
    glueWorkers: 4,
    jobTimeoutMinutes: 60,
    emrMaxVcpu: 64,
    emrMaxMemoryGb: 256,
  },
  orchestration: { airflowVersion: '2.10.3', environmentClass: 'mw1.small', maxWorkers: 4 },
  allowDataDestruction: false,
  alarms: ALARMS,
};

type Identity = Pick<DeployableConfig, 'name' | 'account' | 'msk'>;

/** An environment: BASE under `overrides`, named `lakehouse-<name>`. */
export const environment = (overrides: Overrides<DeployableConfig> & Identity) =>
  overlay<DeployableConfig>(
    {
      ...BASE,
      name: overrides.name,
      account: overrides.account,
      prefix: `lakehouse-${overrides.name}`,
      msk: overrides.msk,
    },
    overrides,
  );
