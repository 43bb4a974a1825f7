import { App, Validations } from 'aws-cdk-lib';
import { DATASETS, type DatasetDefinition } from '../schemas';
import { type DeployableConfig, deployableConfig } from './config/environments';
import { LakehouseSolutionsChecks } from './nag';
import {
  DataStack,
  IngestionStack,
  NetworkStack,
  ObservabilityStack,
  ProcessingStack,
  ReplicaStack,
  StreamingStack,
} from './stacks/stacks';

/** Behaviour flags the app relies on (kept here so `cdk synth` and the tests build the same app). */
export const FEATURE_FLAGS = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
  '@aws-cdk/aws-apigateway:disableCloudWatchRole': false,
  // Cross-stack exports stay strong: a consuming stack pins its producer's outputs until it is updated.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
} as const;

export interface LakehouseOptions {
  readonly env: string;
  /** `-c confirmDestroyData=<env>`: the second half of the opt-in to deleting data (see environments.ts). */
  readonly confirmDestroyData?: string;
  readonly datasets?: readonly DatasetDefinition[];
  /** Settings to build with instead of `env`'s own (tests build variants, e.g. an Iceberg dev). */
  readonly config?: DeployableConfig;
}

/** The whole platform of one environment, as stacks that only compose constructs. */
export function buildLakehouse(app: App, options: LakehouseOptions) {
  const config = options.config ?? deployableConfig(options.env);
  const common = {
    config,
    confirmDestroyData: options.confirmDestroyData,
    datasets: options.datasets ?? DATASETS,
  };
  const network = new NetworkStack(app, 'Network', common);
  const data = new DataStack(app, 'Data', common);
  const replica = config.replicaRegion
    ? new ReplicaStack(app, 'Replica', { ...common, region: config.replicaRegion })
    : undefined;
  if (replica) data.addDependency(replica, 'S3 replication needs its destination buckets and key');
  const streaming = new StreamingStack(app, 'Streaming', { ...common, network: network.network });
  const ingestion = new IngestionStack(app, 'Ingestion', {
    ...common,
    network: network.network,
    streaming: streaming.streaming,
    data,
  });
  const processing = new ProcessingStack(app, 'Processing', {
    ...common,
    network: network.network,
    data,
    streaming: streaming.streaming,
  });
  const observability = new ObservabilityStack(app, 'Observability', {
    ...common,
    data,
    ingestion,
    processing,
  });
  Validations.of(app).addPlugins(new LakehouseSolutionsChecks(app, { verbose: true }));
  return { config, network, data, replica, streaming, ingestion, processing, observability };
}

export function newApp(context: Record<string, unknown> = {}, outdir?: string): App {
  return new App({ context: { ...FEATURE_FLAGS, ...context }, outdir });
}
