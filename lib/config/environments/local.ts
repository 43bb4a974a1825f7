/** The local platform's settings (localstack/): only what means something on one host. */

import { DEFAULT_INGEST_LIMITS } from '../../../lambdas/ingest/config';
import { ALARMS } from './base';
import type { EnvironmentConfig } from './config';

/** The AWS emulators' account (moto's, LocalStack's, ministack's): the local platform's and hybrid's. */
export const EMULATOR_ACCOUNT = '000000000000';

/** The local platform: one host, one broker (or a few), the emulator's account and region. */
export const LOCAL: EnvironmentConfig = {
  name: 'local',
  account: EMULATOR_ACCOUNT,
  region: 'us-east-1',
  prefix: 'lakehouse-local',
  topics: { partitions: 3, replicationFactor: 1, minInsyncReplicas: 1, retentionHours: 168 },
  ingest: { memoryMb: 512, timeoutSeconds: 10, ...DEFAULT_INGEST_LIMITS },
  sink: {
    memoryMb: 1024,
    timeoutSeconds: 60,
    batchSize: 10_000,
    maxBatchingWindowSeconds: 0.5,
    startingPosition: 'TRIM_HORIZON',
    maxRetryAttempts: 10,
    minPollers: 1,
    maxPollers: 2,
  },
  lake: { goldMinGroupCount: 5 },
  tableFormat: 'delta',
  alarms: ALARMS,
};
