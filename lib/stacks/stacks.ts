import { CfnOutput, type aws_sns as sns } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DatasetDefinition } from '../../schemas';
import { committedVersions } from '../../schemas/history';
import { alarmTopicName, SMOKE_PRODUCER } from '../config/environments';
import { glueDatabaseName, QUARANTINE_CURATED_PREFIX, rawTableName } from '../config/lake';
import { STREAMING_WINDOWS } from '../config/spark-jobs';
import { topicSpecs } from '../config/topics';
import { AlarmTopic } from '../constructs/alarm-topic';
import { DataLake } from '../constructs/data-lake';
import { EmrServerless } from '../constructs/emr-serverless';
import { GlueCatalog } from '../constructs/glue-catalog';
import { GlueJobs } from '../constructs/glue-jobs';
import { GrafanaWorkspace } from '../constructs/grafana';
import { IcebergTableOptimizers } from '../constructs/iceberg-table-optimizers';
import { IngestionApi } from '../constructs/ingestion-api';
import { JobFailures } from '../constructs/job-failures';
import { LakeReplica } from '../constructs/lake-replica';
import { Network } from '../constructs/network';
import { OperationsDashboard, operationsDashboardName } from '../constructs/operations-dashboard';
import { Orchestration } from '../constructs/orchestration';
import { SchemaRegistry } from '../constructs/schema-registry';
import { Sink } from '../constructs/sink';
import { SloAlarms, sloIndicators } from '../constructs/slo-alarms';
import { SparkArtifacts } from '../constructs/spark-artifacts';
import { Streaming } from '../constructs/streaming';
import { StreamingWindowsAlarms, StreamingWindowsJob } from '../constructs/streaming-windows-job';
import type { OverviewPanel } from '../dashboards/overview';
import { LakehouseStack, type LakehouseStackProps } from './lakehouse-stack';
import { INGESTION_OUTPUTS } from './outputs';

export class NetworkStack extends LakehouseStack {
  readonly network: Network;
  constructor(scope: Construct, id: string, props: LakehouseStackProps) {
    super(scope, id, props);
    const { natGateways, services, logRetentionDays } = this.config;
    this.network = new Network(this, 'Network', {
      availabilityZones: this.availabilityZones,
      natGateways,
      flowLogRetentionDays: services.flowLogs ? logRetentionDays : undefined,
      removalPolicy: this.dataRemovalPolicy,
    });
  }
}

export interface DataStackProps extends LakehouseStackProps {
  readonly datasets: readonly DatasetDefinition[];
}

export class DataStack extends LakehouseStack {
  readonly lake: DataLake;
  readonly catalog: GlueCatalog;
  readonly contracts?: SchemaRegistry;
  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.lake = new DataLake(this, 'Lake', { config: this.config, removalPolicy: this.dataRemovalPolicy });
    this.catalog = new GlueCatalog(this, 'Catalog', {
      databaseName: glueDatabaseName(this.config),
      datasets: props.datasets,
      raw: this.lake.buckets.raw,
      curated: this.lake.buckets.curated,
      quarantine: this.lake.buckets.quarantine,
      removalPolicy: this.dataRemovalPolicy,
      tableFormat: this.config.tableFormat,
    });
    if (this.config.tableFormat === 'iceberg' && this.config.lake.icebergTableOptimizers) {
      const { curated, quarantine } = this.lake.buckets;
      new IcebergTableOptimizers(this, 'IcebergTableOptimizers', {
        databaseName: this.catalog.databaseName,
        // The tables raw_to_curated creates (lakehouse_spark/tables.py); gold tables are kept by maintenance.py.
        tables: props.datasets.flatMap((d) => [
          { name: `curated_${d.name}`, bucket: curated, prefix: 'iceberg' },
          {
            name: `quarantine_curated_${d.name}`,
            bucket: quarantine,
            prefix: `${QUARANTINE_CURATED_PREFIX}/iceberg`,
          },
        ]),
        lakeKey: this.lake.key,
        snapshotRetentionDays: 7,
      });
    }
    if (!this.config.services.schemaRegistry) return;
    this.contracts = new SchemaRegistry(this, 'Contracts', {
      registryName: `${this.config.prefix}-datasets`,
      schemas: props.datasets.map((d) => ({
        name: d.name,
        description: `${d.label} records (${d.title}); the committed history of schemas/history/${d.name}.`,
        versions: committedVersions(d.name).map((c) => c.text),
      })),
      removalPolicy: this.dataRemovalPolicy,
    });
  }
}

/** The lake's replica in `replicaRegion` (deployed before the data stack that replicates into it). */
export class ReplicaStack extends LakehouseStack {
  readonly replica: LakeReplica;
  constructor(scope: Construct, id: string, props: LakehouseStackProps) {
    super(scope, id, props);
    this.replica = new LakeReplica(this, 'Replica', {
      config: this.config,
      removalPolicy: this.dataRemovalPolicy,
    });
  }
}

export interface StreamingStackProps extends DataStackProps {
  readonly network: Network;
}

export class StreamingStack extends LakehouseStack {
  readonly streaming: Streaming;
  constructor(scope: Construct, id: string, props: StreamingStackProps) {
    super(scope, id, props);
    const { prefix, name, msk, topics, logRetentionDays, consumers } = this.config;
    this.streaming = new Streaming(this, 'Streaming', {
      prefix,
      environmentName: name,
      msk,
      topicSettings: topics,
      logRetentionDays,
      consumers,
      vpc: props.network.vpc,
      subnets: props.network.privateSubnets,
      topics: topicSpecs(this.config, props.datasets),
      removalPolicy: this.dataRemovalPolicy,
    });
  }
}

export interface IngestionStackProps extends StreamingStackProps {
  readonly streaming: Streaming;
  readonly data: DataStack;
}

/** The data path: API → ingest Lambda → MSK → sink Lambda → raw zone. */
export class IngestionStack extends LakehouseStack {
  readonly api: IngestionApi;
  readonly sink: Sink;
  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config } = this;
    const common = {
      prefix: config.prefix,
      logRetentionDays: config.logRetentionDays,
      datasets: props.datasets,
      streaming: props.streaming,
      vpc: props.network.vpc,
      subnets: props.network.privateSubnets,
      removalPolicy: this.dataRemovalPolicy,
    };
    this.api = new IngestionApi(this, 'Api', {
      ...common,
      environmentName: config.name,
      settings: config.ingest,
    });
    this.sink = new Sink(this, 'Sink', {
      ...common,
      settings: config.sink,
      metricMathAlarms: config.services.metricMathAlarms,
      topics: props.streaming.topics,
      raw: props.data.lake.buckets.raw,
      quarantine: props.data.lake.buckets.quarantine,
      lakeKey: props.data.lake.key,
      glueDatabase: props.data.catalog.databaseName,
    });
    const smokeKey = this.api.apiKeys[SMOKE_PRODUCER];
    if (!smokeKey)
      throw new Error(`${this.config.name} has no producer "${SMOKE_PRODUCER}" (ingest.producers)`);
    const outputs: Record<keyof typeof INGESTION_OUTPUTS, string> = {
      apiUrl: this.api.api.url,
      smokeApiKeyId: smokeKey.keyId,
      rawBucket: props.data.lake.buckets.raw.bucketName,
      quarantineBucket: props.data.lake.buckets.quarantine.bucketName,
      sinkFunctionName: this.sink.handler.functionName,
    };
    for (const [name, value] of Object.entries(outputs)) {
      new CfnOutput(this, INGESTION_OUTPUTS[name as keyof typeof INGESTION_OUTPUTS], { value });
    }
  }
}

export interface ProcessingStackProps extends DataStackProps {
  readonly network: Network;
  readonly data: DataStack;
  /** The Kafka cluster the streaming windows job reads. */
  readonly streaming: Streaming;
}

/** Spark (Glue jobs, EMR Serverless) and the MWAA environment that schedules it. */
export class ProcessingStack extends LakehouseStack {
  readonly glueJobs: GlueJobs;
  readonly emr?: EmrServerless;
  readonly orchestration: Orchestration;
  readonly streamingWindows: StreamingWindowsJob;
  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    // Where these resources were before Processing and Orchestration were split (see keepLogicalIds).
    this.keepLogicalIds({
      SparkArtifacts: 'Processing',
      'GlueJobs/Role': 'Processing/GlueRole',
      'GlueJobs/Key': 'Processing/GlueKey',
      GlueJobs: 'Processing',
      'EmrServerless/JobRole': 'Processing/EmrJobRole',
      'EmrServerless/Sg': 'Processing/EmrSg',
      'EmrServerless/Application': 'Processing/EmrApplication',
      'Orchestration/Dags/Dags': 'Orchestration/Dags',
      'Orchestration/Dags/Requirements': 'Orchestration/Requirements',
      'Orchestration/ExecutionRole/Role': 'Orchestration/ExecutionRole',
    });
    const { config } = this;
    const { buckets, key } = props.data.lake;
    const network = { vpc: props.network.vpc, subnets: props.network.privateSubnets };
    const access = { buckets, lakeKey: key, glueDatabase: props.data.catalog.databaseName };
    const artifacts = new SparkArtifacts(this, 'SparkArtifacts', {
      bucket: buckets.scripts,
      upload: config.services.bucketDeployments,
    });
    this.glueJobs = new GlueJobs(this, 'GlueJobs', {
      ...access,
      prefix: config.prefix,
      artifacts,
      objectives: config,
      maxConcurrentRuns: Math.max(props.datasets.length, 1),
      workerType: config.processing.glueWorkerType,
      workers: config.processing.glueWorkers,
      timeoutMinutes: config.processing.jobTimeoutMinutes,
      securityConfiguration: config.services.glueSecurityConfiguration,
    });
    const [subnet] = props.network.vpc.selectSubnets(props.network.privateSubnets).subnets;
    if (!subnet) throw new Error(`${config.name}: the VPC has no private subnet for the streaming job`);
    this.streamingWindows = new StreamingWindowsJob(this, 'StreamingWindows', {
      ...access,
      prefix: config.prefix,
      artifacts,
      objectives: config,
      datasets: props.datasets,
      kafka: props.streaming,
      vpc: props.network.vpc,
      subnet,
      securityConfiguration: this.glueJobs.securityConfigurationName,
    });
    this.emr = config.services.emrServerless
      ? new EmrServerless(this, 'EmrServerless', {
          ...access,
          prefix: config.prefix,
          artifacts,
          maxVcpu: config.processing.emrMaxVcpu,
          maxMemoryGb: config.processing.emrMaxMemoryGb,
          tableFormat: config.tableFormat,
          ...network,
        })
      : undefined;
    this.orchestration = new Orchestration(this, 'Orchestration', {
      prefix: config.prefix,
      settings: config.orchestration,
      maxRejectedShare: config.alarms.rejectedRatio,
      dagsBucket: buckets.dags,
      scriptsBucket: buckets.scripts,
      lakeKey: key,
      glueJobs: this.glueJobs,
      emr: this.emr,
      mwaa: config.services.mwaa,
      uploadDags: config.services.bucketDeployments,
      datasets: props.datasets,
      ...network,
    });
  }
}

export interface ObservabilityStackProps extends LakehouseStackProps {
  readonly data: DataStack;
  readonly ingestion: IngestionStack;
  readonly processing: ProcessingStack;
}

/** Alarms per SLO, the operations dashboard and the Grafana workspace, over what the other stacks built. */
export class ObservabilityStack extends LakehouseStack {
  readonly topic: sns.Topic;
  readonly grafana?: GrafanaWorkspace;
  readonly alarms: SloAlarms;
  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    // Where these resources were before Observability was split (see keepLogicalIds).
    this.keepLogicalIds({
      'AlarmTopic/Key': 'Observability/AlarmsKey',
      'AlarmTopic/Topic': 'Observability/Alarms',
      'JobFailures/LogGroup': 'Observability/JobFailures',
      'JobFailures/FromEvents': 'Observability/JobFailuresFromEvents',
      JobFailures: 'Observability',
      'Grafana/Provisioning': 'Observability/Grafana',
      Grafana: 'Observability/Grafana',
      SloAlarms: 'Observability',
      'Dashboard/Dashboard': 'Observability/Dashboard',
    });
    const { config } = this;
    const { buckets, key } = props.data.lake;
    const { glueJobs, emr, streamingWindows } = props.processing;
    const { api, sink } = props.ingestion;
    this.topic = new AlarmTopic(this, 'AlarmTopic', {
      topicName: alarmTopicName(config),
      keyAlias: `alias/${config.prefix}-alarms`,
      email: config.alarms.email,
    }).topic;
    const jobFailures = new JobFailures(this, 'JobFailures', {
      glueJobNames: [...glueJobs.jobNames, streamingWindows.jobName],
      emrApplicationId: emr?.application.attrApplicationId,
      retentionDays: config.logRetentionDays,
      removalPolicy: this.dataRemovalPolicy,
    });
    this.grafana = config.services.grafana
      ? new GrafanaWorkspace(this, 'Grafana', {
          prefix: config.prefix,
          logRetentionDays: config.logRetentionDays,
          // Grafana reads curated and gold only: raw and quarantine hold whole producer payloads.
          queryBuckets: [buckets.curated, buckets.gold],
          resultsBucket: buckets.scripts,
          lakeKey: key,
          glueDatabase: props.data.catalog.databaseName,
          hiddenTablePatterns: [rawTableName('*'), 'quarantine_*'],
          logGroups: [api.handler.logGroup, sink.handler.logGroup, jobFailures.logGroup],
          ingestFunctionName: api.handler.functionName,
          sinkFunctionName: sink.handler.functionName,
          notifications: this.topic,
          removalPolicy: this.dataRemovalPolicy,
        })
      : undefined;
    // Without Grafana (hybrid), the alarms point at the CloudWatch dashboard below.
    const panelUrl = (panel: OverviewPanel) =>
      this.grafana?.panelUrl(panel) ?? `CloudWatch dashboard ${operationsDashboardName(config.prefix)}`;
    const indicators = sloIndicators(api.api, sink.handler.functionName, jobFailures.failedRuns);
    this.alarms = new SloAlarms(this, 'SloAlarms', {
      prefix: config.prefix,
      objectives: config.alarms,
      indicators,
      topic: this.topic,
      panelUrl,
      metricMath: config.services.metricMathAlarms,
    });
    new StreamingWindowsAlarms(this, 'StreamingWindowsAlarms', {
      prefix: config.prefix,
      lagMessages: config.alarms.consumerLagMessages,
      freshnessSeconds: STREAMING_WINDOWS.freshnessAlarmSeconds,
      topic: this.topic,
      panelUrl: panelUrl('streamingWindows'),
    });
    new OperationsDashboard(this, 'Dashboard', {
      prefix: config.prefix,
      api: api.api,
      ingest: api.handler,
      sink: sink.handler,
      indicators,
      alarms: Object.values(this.alarms.alarms),
    });
  }
}
