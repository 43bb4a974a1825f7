/**
 * The deployable environments, each as its overrides of BASE: dev small and cheap, hybrid dev in an AWS
 * emulator, staging BASE with its cluster, prod larger. Accounts can be overridden per environment with
 * LAKEHOUSE_<ENV>_ACCOUNT (e.g. LAKEHOUSE_PROD_ACCOUNT=123456789012) so no account id needs committing.
 */

import { environment, type Overrides, overlay } from './base';
import type { AwsEnvName, DeployableConfig, DeployableEnvName } from './config';
import { EMULATOR_ACCOUNT } from './local';
import { type MskSettings, SMOKE_PRODUCER } from './settings';

const account = (env: DeployableEnvName, fallback: string): string =>
  process.env[`LAKEHOUSE_${env.toUpperCase()}_ACCOUNT`] ?? fallback;

const provisionedMsk = (instanceType: string, volumeSizeGiB: number): MskSettings => ({
  mode: 'provisioned',
  kafkaVersion: '3.9.x',
  brokerCount: 3,
  instanceType,
  volumeSizeGiB,
});

/** dev: small and cheap. */
const DEV: Overrides<DeployableConfig> = {
  availabilityZones: 2,
  topics: { partitions: 3, retentionHours: 72 },
  ingest: {
    memoryMb: 512,
    throttleRatePerSecond: 200,
    throttleBurst: 400,
    quotaPerDay: 1_000_000,
    readThrottleRatePerSecond: 20,
    readThrottleBurst: 40,
    producers: [{ name: SMOKE_PRODUCER }, { name: 'demo' }],
    wafRateLimitPer5Min: 10_000,
    waf: false,
  },
  sink: { memoryMb: 1024, batchSize: 5_000, maxRetryAttempts: 10, maxPollers: 2 },
  lake: {
    rawGlacierDays: 90,
    noncurrentVersionExpirationDays: 7,
    accessLogExpirationDays: 30,
    goldMinGroupCount: 5,
  },
  logRetentionDays: 14,
  natGateways: 1,
  processing: { glueWorkers: 2, emrMaxVcpu: 16, emrMaxMemoryGb: 64 },
  orchestration: { environmentClass: 'mw1.micro', maxWorkers: 1 },
  allowDataDestruction: true,
};

/** Where `hybrid`'s Kafka is: the local broker `npm run hybrid` starts (it sets this to the port it chose). */
export const HYBRID_KAFKA_ENV = 'LAKEHOUSE_HYBRID_BOOTSTRAP_SERVERS';

export const ENVIRONMENTS: Readonly<Record<DeployableEnvName, DeployableConfig>> = {
  dev: environment({
    ...DEV,
    name: 'dev',
    account: account('dev', '111111111111'),
    msk: { mode: 'serverless' },
  }),
  /**
   * dev as deployed into a local AWS emulator (`npm run hybrid`): the same stacks and constructs, with the
   * local broker for MSK, no NAT gateway, and the services the emulator refuses turned off.
   */
  hybrid: environment({
    ...overlay(DEV, {
      // One local broker.
      topics: { replicationFactor: 1, minInsyncReplicas: 1 },
      natGateways: 0,
      services: {
        flowLogs: false,
        glueSecurityConfiguration: false,
        schemaRegistry: false,
        emrServerless: false,
        mwaa: false,
        grafana: false,
        metricMathAlarms: false,
        bucketDeployments: false,
      },
    }),
    name: 'hybrid',
    account: EMULATOR_ACCOUNT,
    msk: { mode: 'external', bootstrapServers: process.env[HYBRID_KAFKA_ENV] ?? '127.0.0.1:9092' },
  }),
  staging: environment({
    name: 'staging',
    account: account('staging', '222222222222'),
    msk: provisionedMsk('kafka.m7g.large', 500),
  }),
  prod: environment({
    name: 'prod',
    account: account('prod', '333333333333'),
    msk: provisionedMsk('kafka.m7g.xlarge', 2000),
    topics: { partitions: 12 },
    ingest: {
      throttleRatePerSecond: 5_000,
      throttleBurst: 10_000,
      quotaPerDay: 100_000_000,
      readThrottleRatePerSecond: 100,
      readThrottleBurst: 200,
      wafRateLimitPer5Min: 100_000,
    },
    sink: { maxRetryAttempts: 50, minPollers: 2, maxPollers: 10 },
    lake: {
      rawGlacierDays: 365,
      noncurrentVersionExpirationDays: 90,
      accessLogExpirationDays: 365,
      goldMinGroupCount: 20,
    },
    replicaRegion: 'eu-central-1',
    logRetentionDays: 365,
    processing: { glueWorkerType: 'G.2X', glueWorkers: 10, emrMaxVcpu: 200, emrMaxMemoryGb: 800 },
    orchestration: { environmentClass: 'mw1.medium', maxWorkers: 10 },
  }),
};

export const AWS_ENVS: readonly AwsEnvName[] = ['dev', 'staging', 'prod'];
export const DEPLOYABLE_ENVS: readonly DeployableEnvName[] = [...AWS_ENVS, 'hybrid'];
