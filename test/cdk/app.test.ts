/**
 * The whole CDK app of every environment, synthesized once per environment (Lambda bundling included):
 * cdk-nag clean, cfn-lint clean, and the properties that matter asserted per construct.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildLakehouse, newApp } from '../../lib/app';
import { DEPLOYABLE_ENVS, type DeployableEnvName, environmentConfig } from '../../lib/config/environments';
import { bucketName, LAKE_ZONES } from '../../lib/config/lake';
import { REPO_ROOT } from '../../lib/constructs/lambda-function';
import { runbookPath, SLOS, type SloId } from '../../lib/constructs/observability';
import { sparkJobScripts } from '../../lib/constructs/processing';
import { acknowledgements } from '../../lib/nag';
import { cfnLint } from '../../lib/report';
import { DATASETS, topicOf } from '../../schemas';
import { batchRouteOf } from '../../schemas/openapi';

interface Synthesized {
  readonly templates: Record<string, Template>;
  readonly lintErrors: string[];
  readonly acknowledged: number;
  readonly validationReport: { pluginReports: { violations: unknown[] }[] };
}

const synthesized = {} as Record<DeployableEnvName, Synthesized>;

beforeAll(() => {
  for (const env of DEPLOYABLE_ENVS) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-${env}-`));
    const app = newApp({}, outdir);
    buildLakehouse(app, { env });
    // Throws on any cdk-nag finding that is not acknowledged.
    const assembly = app.synth();
    synthesized[env] = {
      templates: Object.fromEntries(assembly.stacks.map((s) => [s.id, Template.fromJSON(s.template)])),
      lintErrors: cfnLint(assembly, environmentConfig(env).region)
        .filter((p) => p.Level === 'Error')
        .map((p) => `${p.Rule.Id} ${p.Message}`),
      acknowledged: acknowledgements(app).length,
      validationReport: JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')),
    };
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}, 900_000);

const each = describe.each(DEPLOYABLE_ENVS.map((env) => [env] as const));
const resources = (t: Template, type: string) => Object.values(t.findResources(type));

each('%s', (env) => {
  const config = environmentConfig(env);
  const t = (stack: string) => synthesized[env].templates[stack] as Template;

  it('synthesizes with no unacknowledged cdk-nag finding and no cfn-lint error', () => {
    expect(synthesized[env].validationReport.pluginReports.flatMap((r) => r.violations)).toEqual([]);
    expect(synthesized[env].acknowledged).toBeGreaterThan(0);
    expect(synthesized[env].lintErrors).toEqual([]);
  });

  it('data lake: every bucket encrypted, versioned, private, TLS-only, logged, with lifecycle; data retained', () => {
    const data = t('Data');
    const buckets = data.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(LAKE_ZONES.length);
    for (const bucket of Object.values(buckets)) {
      const p = bucket.Properties;
      const accessLogs = p.BucketName === bucketName(config, 'access-logs');
      expect(p.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(
        p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
      ).toBe(accessLogs ? 'AES256' : 'aws:kms');
      if (!accessLogs) expect(p.LoggingConfiguration.DestinationBucketName).toBeDefined();
      expect(p.LifecycleConfiguration.Rules.length).toBeGreaterThan(0);
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
    for (const policy of resources(data, 'AWS::S3::BucketPolicy')) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('catalog: raw tables from the registry with partition projection; Delta tables for curated zones', () => {
    const data = t('Data');
    for (const def of DATASETS) {
      data.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: `raw_${def.name}`,
          PartitionKeys: [Match.objectLike({ Name: 'event_date' }), Match.objectLike({ Name: 'event_hour' })],
          Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.event_hour.digits': '2' }),
        }),
      });
      data.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: `curated_${def.name}`,
          Parameters: Match.objectLike({ table_type: 'DELTA', 'spark.sql.sources.provider': 'delta' }),
        }),
      });
    }
  });

  it('streaming: IAM-authenticated TLS Kafka with the topics of the registry', () => {
    const streaming = t('Streaming');
    if (config.msk.mode === 'serverless') {
      streaming.hasResourceProperties('AWS::MSK::ServerlessCluster', {
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      });
    } else {
      streaming.hasResourceProperties('AWS::MSK::Cluster', {
        NumberOfBrokerNodes: 3,
        ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
        EncryptionInfo: {
          EncryptionAtRest: { DataVolumeKMSKeyId: Match.anyValue() },
          EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
        },
      });
      const cluster = resources(streaming, 'AWS::MSK::Cluster')[0];
      expect(cluster?.Properties.BrokerNodeGroupInfo.ClientSubnets).toHaveLength(3);
      const [configuration] = resources(streaming, 'AWS::MSK::Configuration');
      expect(configuration?.Properties.ServerProperties).toMatch(/default\.replication\.factor=3/);
      expect(configuration?.Properties.ServerProperties).toMatch(/min\.insync\.replicas=2/);
    }
    const topics = resources(streaming, 'AWS::MSK::Topic').map((r) => r.Properties);
    expect(topics.map((p) => p.TopicName).sort()).toEqual(DATASETS.map(topicOf).sort());
    for (const topic of topics) {
      expect(topic.PartitionCount).toBe(config.topics.partitions);
      expect(topic.ReplicationFactor).toBe(config.topics.replicationFactor);
    }
  });

  it('lambdas: Node.js 24 on arm64, in the VPC, traced', () => {
    for (const fn of resources(t('Ingestion'), 'AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        VpcConfig: { SubnetIds: expect.any(Array), SecurityGroupIds: expect.any(Array) },
      });
    }
  });

  it('IAM: the ingest role writes only to the raw topics; the sink writes only its prefixes', () => {
    const ingestion = t('Ingestion');
    const statements = (role: string) =>
      resources(ingestion, 'AWS::IAM::Policy')
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap(
          (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
        );
    const actions = (s: { Action: string | string[] }) => [s.Action].flat();
    const ingest = statements('ApiHandlerRole');
    const write = ingest.find((s) => actions(s).includes('kafka-cluster:WriteData'));
    const writeTargets = JSON.stringify(write?.Resource);
    for (const def of DATASETS) expect(writeTargets).toContain(`/${topicOf(def)}`);
    expect(writeTargets).toContain(`:topic/${config.prefix}-kafka/`);
    expect(ingest.flatMap(actions).filter((a) => a.includes('*'))).toEqual([]);

    const sink = statements('SinkHandlerRole');
    const s3Actions = sink.flatMap(actions).filter((a) => a.startsWith('s3:'));
    expect(new Set(s3Actions)).toEqual(new Set(['s3:PutObject', 's3:ListBucket']));
    const puts = JSON.stringify(
      sink.filter((s) => actions(s).includes('s3:PutObject')).map((s) => s.Resource),
    );
    for (const def of DATASETS) expect(puts).toContain(`/${def.name}/*`);
    expect(puts).toContain('/sink/*');
    const consume = sink.find((s) => actions(s).includes('kafka-cluster:AlterGroup'));
    expect(JSON.stringify(consume?.Resource)).toContain(`:group/${config.prefix}-kafka/`);
  });

  it('sink: one event source mapping per raw topic with the configured batching, retries and failure destination', () => {
    const mappings = resources(t('Ingestion'), 'AWS::Lambda::EventSourceMapping').map((r) => r.Properties);
    expect(mappings.map((m) => m.Topics[0]).sort()).toEqual(DATASETS.map(topicOf).sort());
    for (const m of mappings) {
      expect(m).toMatchObject({
        BatchSize: config.sink.batchSize,
        MaximumBatchingWindowInSeconds: config.sink.maxBatchingWindowSeconds,
        StartingPosition: config.sink.startingPosition,
        MaximumRetryAttempts: config.sink.maxRetryAttempts,
        BisectBatchOnFunctionError: false,
        DestinationConfig: { OnFailure: { Destination: expect.anything() } },
        ProvisionedPollerConfig: {
          MinimumPollers: config.sink.minPollers,
          MaximumPollers: config.sink.maxPollers,
        },
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `${config.prefix}-sink-${m.Topics[0]}` },
      });
      expect(JSON.stringify(m.DestinationConfig)).toMatch(/quarantine/i);
    }
  });

  it('API: every route of the registry, keys on ingestion, throttled, logged; WAF where configured', () => {
    const ingestion = t('Ingestion');
    const paths = resources(ingestion, 'AWS::ApiGateway::Resource').map((r) => r.Properties.PathPart);
    for (const def of DATASETS) {
      expect(paths).toContain(def.route.slice(1));
      expect(batchRouteOf(def).endsWith('/batch')).toBe(true);
    }
    expect(paths).toEqual(expect.arrayContaining(['health', 'openapi.json', 'docs', 'redoc', 'batch']));
    const posts = resources(ingestion, 'AWS::ApiGateway::Method').filter(
      (m) => m.Properties.HttpMethod === 'POST',
    );
    expect(posts).toHaveLength(DATASETS.length * 2);
    for (const post of posts) expect(post.Properties.ApiKeyRequired).toBe(true);
    ingestion.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ThrottlingRateLimit: config.ingest.throttleRatePerSecond,
          ThrottlingBurstLimit: config.ingest.throttleBurst,
        }),
      ]),
    });
    ingestion.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Quota: { Limit: config.ingest.quotaPerDay, Period: 'DAY' },
    });
    const acls = resources(ingestion, 'AWS::WAFv2::WebACL');
    expect(acls).toHaveLength(config.ingest.waf ? 1 : 0);
    if (config.ingest.waf) {
      const rules = acls[0]?.Properties.Rules as {
        Name: string;
        Statement: { RateBasedStatement?: { Limit: number } };
      }[];
      expect(rules.find((r) => r.Name === 'RatePerIp')?.Statement.RateBasedStatement?.Limit).toBe(
        config.ingest.wafRateLimitPer5Min,
      );
      expect(rules.find((r) => r.Name === 'BodyTooLarge')).toBeDefined();
      ingestion.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    }
  });

  it('processing: a Glue 5.0 job per script with encryption, an EMR Serverless application, a private MWAA', () => {
    const processing = t('Processing');
    const jobs = resources(processing, 'AWS::Glue::Job').map((j) => j.Properties);
    expect(jobs.map((j) => j.Name).sort()).toEqual(sparkJobScripts().map((s) => `${config.prefix}-${s}`));
    for (const job of jobs) {
      expect(job).toMatchObject({ GlueVersion: '5.0', SecurityConfiguration: `${config.prefix}-spark` });
      expect(job.DefaultArguments['--datalake-formats']).toBe('delta');
    }
    processing.hasResourceProperties('AWS::EMRServerless::Application', {
      Type: 'SPARK',
      ReleaseLabel: Match.stringLikeRegexp('^emr-7\\.'),
    });
    processing.hasResourceProperties('AWS::MWAA::Environment', {
      WebserverAccessMode: 'PRIVATE_ONLY',
      KmsKey: Match.anyValue(),
      AirflowVersion: config.orchestration.airflowVersion,
      DagS3Path: 'dags',
    });
    // DAGs (with their generated config) under dags/; requirements.txt at the root without pruning dags/.
    const deployments = resources(processing, 'Custom::CDKBucketDeployment').map((d) => d.Properties);
    expect(deployments.filter((d) => d.DestinationBucketKeyPrefix === 'dags/')).toHaveLength(1);
    expect(deployments.find((d) => d.DestinationBucketKeyPrefix === undefined)?.Prune).toBe(false);
  });

  it('observability: one alarm per SLO linking its runbook, into a KMS-encrypted topic; Grafana', () => {
    const observability = t('Observability');
    const alarms = resources(observability, 'AWS::CloudWatch::Alarm').map((a) => a.Properties);
    expect(alarms).toHaveLength(Object.keys(SLOS).length);
    for (const slo of Object.keys(SLOS) as SloId[]) {
      const alarm = alarms.find((a) => a.AlarmName === `${config.prefix}-slo-${slo}`);
      expect(alarm?.AlarmDescription).toContain(runbookPath(slo));
      expect(alarm?.AlarmActions).toHaveLength(1);
      expect(fs.existsSync(path.join(REPO_ROOT, runbookPath(slo)))).toBe(true);
    }
    observability.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    observability.hasResourceProperties('AWS::Grafana::Workspace', {
      PermissionType: 'SERVICE_MANAGED',
      DataSources: Match.arrayWith(['CLOUDWATCH', 'ATHENA']),
    });
  });

  it('network: private subnets in every AZ, flow logs, S3 gateway endpoint', () => {
    const network = t('Network');
    const subnets = resources(network, 'AWS::EC2::Subnet').map((s) => s.Properties.AvailabilityZone);
    expect(new Set(subnets).size).toBe(config.availabilityZones);
    network.resourceCountIs('AWS::EC2::FlowLog', 1);
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });
});
