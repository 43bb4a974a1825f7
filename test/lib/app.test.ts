/**
 * The whole CDK app of every environment, synthesized once per environment (Lambda bundling included):
 * cdk-nag clean, cfn-lint clean, and the properties that matter asserted per construct.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { STREAMING_METRICS } from '../../lambdas/shared/metric-names';
import { buildLakehouse, newApp } from '../../lib/app';
import { AWS_ENVS, type AwsEnvName, environmentConfig } from '../../lib/config/environments';
import {
  bucketName,
  LAKE_ZONES,
  REPLICATED_ZONES,
  replicaBucketName,
  replicaKeyAlias,
} from '../../lib/config/lake';
import { STREAMING_WINDOWS, sparkJobScripts } from '../../lib/config/spark-jobs';
import { REPO_ROOT } from '../../lib/constructs/lambda-function';
import { SINK_ALARMS, type SinkAlarmId, sinkRunbookPath } from '../../lib/constructs/sink';
import { ALARM_GUIDE, runbookPath, SLOS, type SloId } from '../../lib/constructs/slo-alarms';
import { STREAMING_WINDOWS_RUNBOOK } from '../../lib/constructs/streaming-windows-job';
import { RECORD_BODY_RULES } from '../../lib/constructs/waf';
import { OVERVIEW_PANELS, OVERVIEW_UID } from '../../lib/dashboards/overview';
import { acknowledgements } from '../../lib/nag';
import { INGESTION_OUTPUTS } from '../../lib/stacks/outputs';
import { DATASETS, topicOf } from '../../schemas';
import { batchRouteOf, HEALTH_ROUTE, OPENAPI_ROUTE } from '../../schemas/api/openapi';
import { committedVersions } from '../../schemas/history';
import { cfnLint } from '../../scripts/report';
import { type WafRequest, type WafRule, wafDecision } from './waf-simulator';

interface Synthesized {
  readonly templates: Record<string, Template>;
  readonly regions: Record<string, string>;
  readonly lintErrors: string[];
  readonly acknowledged: number;
  readonly validationReport: { pluginReports: { violations: unknown[] }[] };
}

const synthesized = {} as Record<AwsEnvName, Synthesized>;

beforeAll(() => {
  for (const env of AWS_ENVS) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-${env}-`));
    const app = newApp({}, outdir);
    buildLakehouse(app, { env });
    // Throws on any cdk-nag finding that is not acknowledged.
    const assembly = app.synth();
    synthesized[env] = {
      templates: Object.fromEntries(assembly.stacks.map((s) => [s.id, Template.fromJSON(s.template)])),
      regions: Object.fromEntries(assembly.stacks.map((s) => [s.id, s.environment.region])),
      lintErrors: cfnLint(assembly, environmentConfig(env).region)
        .filter((p) => p.Level === 'Error')
        .map((p) => `${p.Rule.Id} ${p.Message}`),
      acknowledged: acknowledgements(app).length,
      validationReport: JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')),
    };
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}, 900_000);

const each = describe.each(AWS_ENVS.map((env) => [env] as const));
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
          Parameters: Match.objectLike({
            'projection.enabled': 'true',
            'projection.event_hour.values': Match.stringLikeRegexp('^00,01,.*,23,late$'),
          }),
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

  it("contracts: every dataset in the environment's Glue Schema Registry, its committed versions in order", () => {
    const data = t('Data');
    data.hasResourceProperties('AWS::Glue::Registry', { Name: `${config.prefix}-datasets` });
    expect(resources(data, 'AWS::Glue::Schema').map((s) => s.Properties.Name)).toEqual(
      DATASETS.map((d) => d.name),
    );
    for (const def of DATASETS) {
      const versions = committedVersions(def.name);
      data.hasResourceProperties('AWS::Glue::Schema', {
        Name: def.name,
        DataFormat: 'JSON',
        Compatibility: 'BACKWARD',
        SchemaDefinition: Match.serializedJson(
          Match.objectLike({ 'x-schema-version': versions[0]?.version }),
        ),
      });
    }
    expect(resources(data, 'AWS::Glue::SchemaVersion')).toHaveLength(
      DATASETS.reduce((n, d) => n + committedVersions(d.name).length - 1, 0),
    );
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
      // 0.5 s, Lambda's default for Kafka, is a window CloudFormation cannot spell (whole seconds): left unset.
      expect(config.sink.maxBatchingWindowSeconds).toBe(0.5);
      expect(m).not.toHaveProperty('MaximumBatchingWindowInSeconds');
      expect(JSON.stringify(m.DestinationConfig)).toMatch(/quarantine/i);
    }
  });

  it('sink: alarms on failing batches and on batches given up, each linking its runbook, into the alarm topic', () => {
    const alarms = resources(t('Ingestion'), 'AWS::CloudWatch::Alarm').map((a) => a.Properties);
    for (const id of Object.keys(SINK_ALARMS) as SinkAlarmId[]) {
      const alarm = alarms.find((a) => a.AlarmName === `${config.prefix}-${id}`);
      expect(alarm?.AlarmDescription).toContain(sinkRunbookPath(id));
      expect(JSON.stringify(alarm?.AlarmActions)).toContain(`:${config.prefix}-alarms`);
      expect(fs.existsSync(path.join(REPO_ROOT, sinkRunbookPath(id)))).toBe(true);
    }
    const failed = alarms.find((a) => a.AlarmName === `${config.prefix}-sink-failed-batches`);
    expect(failed).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', EvaluationPeriods: 3 });
    const givenUp = alarms.find((a) => a.AlarmName === `${config.prefix}-sink-on-failure-records`);
    const metricNames = (givenUp?.Metrics ?? []).flatMap(
      (m: { MetricStat?: { Metric: { MetricName: string } } }) => m.MetricStat?.Metric.MetricName ?? [],
    );
    expect(new Set(metricNames)).toEqual(
      new Set(['OnFailureDestinationDeliveredEventCount', 'DroppedEventCount']),
    );
    expect(metricNames).toHaveLength(2 * DATASETS.length);
    for (const m of resources(t('Ingestion'), 'AWS::Lambda::EventSourceMapping')) {
      expect(m.Properties.MetricsConfig).toEqual({ Metrics: ['EventCount', 'ErrorCount'] });
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
      AccessLogSetting: Match.objectLike({
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('identity.apiKeyId'),
      }),
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ThrottlingRateLimit: config.ingest.throttleRatePerSecond,
          ThrottlingBurstLimit: config.ingest.throttleBurst,
        }),
      ]),
    });
    // The public GET routes are throttled apart from the record routes.
    const [stage] = resources(ingestion, 'AWS::ApiGateway::Stage');
    const settings = stage?.Properties.MethodSettings as Record<string, unknown>[];
    for (const path of ['/', `/~1${HEALTH_ROUTE.slice(1)}`, `/~1${OPENAPI_ROUTE.slice(1)}`]) {
      expect(settings).toContainEqual(
        expect.objectContaining({
          ResourcePath: path,
          HttpMethod: 'GET',
          ThrottlingRateLimit: config.ingest.readThrottleRatePerSecond,
          ThrottlingBurstLimit: config.ingest.readThrottleBurst,
        }),
      );
    }
    expect(config.ingest.readThrottleRatePerSecond).toBeLessThan(config.ingest.throttleRatePerSecond);
    // One key and one usage plan per configured producer, so each can be limited and revoked alone.
    const plans = resources(ingestion, 'AWS::ApiGateway::UsagePlan').map((p) => p.Properties);
    expect(plans.map((p) => p.UsagePlanName).sort()).toEqual(
      config.ingest.producers.map((p) => `${config.prefix}-${p.name}`).sort(),
    );
    for (const producer of config.ingest.producers) {
      const plan = plans.find((p) => p.UsagePlanName === `${config.prefix}-${producer.name}`);
      expect(plan?.Quota).toEqual({
        Limit: producer.quotaPerDay ?? config.ingest.quotaPerDay,
        Period: 'DAY',
      });
    }
    const keys = resources(ingestion, 'AWS::ApiGateway::ApiKey').map((k) => k.Properties.Name);
    expect(keys.sort()).toEqual(config.ingest.producers.map((p) => `${config.prefix}-${p.name}`).sort());
    const planKeys = resources(ingestion, 'AWS::ApiGateway::UsagePlanKey').map((k) =>
      JSON.stringify(k.Properties),
    );
    expect(planKeys).toHaveLength(config.ingest.producers.length);
    expect(new Set(planKeys.map((k) => JSON.parse(k).UsagePlanId.Ref)).size).toBe(planKeys.length);
    expect(Object.keys(ingestion.findOutputs('*'))).toEqual(
      expect.arrayContaining(Object.values(INGESTION_OUTPUTS)),
    );
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

  (config.ingest.waf ? it : it.skip)(
    'WAF: legitimate record text passes on record routes; body attacks elsewhere are blocked',
    () => {
      const [acl] = resources(t('Ingestion'), 'AWS::WAFv2::WebACL');
      const rules = acl?.Properties.Rules as WafRule[];
      const post = (path: string, fired: string[], contentLength = 2_000): WafRequest => ({
        method: 'POST',
        path: `/v1${path}`,
        headers: { 'content-length': String(contentLength) },
        commonRuleSetMatches: fired,
      });
      const [def] = DATASETS;
      if (!def) throw new Error('no dataset');
      // What the common rule set's body rules match in records such as {"description":"<b>50% off</b>"},
      // {"merchant":"../outlet"}, a URL in a note, or a 500-record batch over 8 KB.
      for (const fired of RECORD_BODY_RULES.map((r) => [r]).concat([[...RECORD_BODY_RULES]])) {
        expect(wafDecision(rules, post(def.route, fired))).toBe('allow');
        expect(wafDecision(rules, post(`${batchRouteOf(def)}/`, fired, 900_000))).toBe('allow');
        // The same body on any other path is still refused.
        expect(wafDecision(rules, post('/not-a-record-route', fired))).toBe('block');
        expect(wafDecision(rules, post(`${def.route}/../admin`, fired))).toBe('block');
      }
      // The rest of the common rule set still blocks on record routes, and oversized bodies get 413.
      expect(wafDecision(rules, post(def.route, ['EC2MetaDataSSRF_BODY']))).toBe('block');
      expect(wafDecision(rules, post(def.route, ['NoUserAgent_HEADER']))).toBe('block');
      expect(wafDecision(rules, post(def.route, [], config.ingest.maxBodyBytes + 1))).toBe('block');
      expect(wafDecision(rules, post(def.route, [], config.ingest.maxBodyBytes))).toBe('allow');
    },
  );

  it('streaming windows: a Glue streaming job in the cluster client group, reading only the streamed topics as its own groups', () => {
    const processing = t('Processing');
    const [job] = resources(processing, 'AWS::Glue::Job')
      .map((j) => j.Properties)
      .filter((j) => j.Command.Name === 'gluestreaming');
    const streamed = DATASETS.filter((d) => d.streamingWindow);
    expect(job).toMatchObject({
      Name: `${config.prefix}-${STREAMING_WINDOWS.script}`,
      GlueVersion: '5.0',
      SecurityConfiguration: `${config.prefix}-spark`,
      ExecutionProperty: { MaxConcurrentRuns: 1 },
    });
    expect(job.DefaultArguments).toMatchObject({
      '--datasets': streamed.map((d) => d.name).join(','),
      '--kafka_auth': 'iam',
      '--watermark_minutes': String(STREAMING_WINDOWS.watermarkMinutes),
      '--metric_names': JSON.stringify(STREAMING_METRICS),
    });
    expect(Object.keys(job.DefaultArguments)).toContain('--kafka_cluster_arn');
    processing.hasResourceProperties('AWS::Glue::Trigger', {
      Type: 'SCHEDULED',
      StartOnCreation: true,
      Actions: [{ JobName: job.Name }],
    });
    processing.hasResourceProperties('AWS::Glue::Connection', {
      ConnectionInput: Match.objectLike({ ConnectionType: 'NETWORK' }),
    });
    // Its role reads the streamed topics (and no other) as the job's own consumer groups.
    const policies = resources(processing, 'AWS::IAM::Policy').filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('StreamingWindowsRole'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const read = statements.find((st) => [st.Action].flat().includes('kafka-cluster:ReadData'));
    const topics = JSON.stringify(read.Resource);
    for (const d of DATASETS) expect(topics.includes(`/${topicOf(d)}`)).toBe(Boolean(d.streamingWindow));
    const groups = statements.find((st) => [st.Action].flat().includes('kafka-cluster:AlterGroup'));
    expect(JSON.stringify(groups.Resource)).toContain(`/${config.prefix}-${STREAMING_WINDOWS.script}*`);
    expect(
      statements.some(
        (st) => [st.Action].flat().includes('s3:GetObject') && JSON.stringify(st.Resource).includes('Raw'),
      ),
    ).toBe(false);
    // Lag (also when it is not running) and freshness page the alarm topic, with the runbook.
    const alarms = resources(t('Observability'), 'AWS::CloudWatch::Alarm')
      .map((a) => a.Properties)
      .filter((a) => String(a.AlarmName).includes('streaming-windows'));
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(
      [STREAMING_METRICS.freshnessP99, STREAMING_METRICS.offsetsBehind].sort(),
    );
    for (const alarm of alarms)
      expect(JSON.stringify(alarm.AlarmDescription)).toContain(STREAMING_WINDOWS_RUNBOOK);
    expect(fs.existsSync(path.join(REPO_ROOT, STREAMING_WINDOWS_RUNBOOK))).toBe(true);
  });

  it('processing: a Glue 5.0 job per script with encryption, an EMR Serverless application, a private MWAA', () => {
    const processing = t('Processing');
    const jobs = resources(processing, 'AWS::Glue::Job')
      .map((j) => j.Properties)
      .filter((j) => j.Command.Name === 'glueetl');
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
    const alarms = resources(observability, 'AWS::CloudWatch::Alarm')
      .map((a) => a.Properties)
      .filter((a) => String(a.AlarmName).startsWith(`${config.prefix}-slo-`));
    expect(alarms).toHaveLength(Object.keys(SLOS).length);
    for (const slo of Object.keys(SLOS) as SloId[]) {
      const alarm = alarms.find((a) => a.AlarmName === `${config.prefix}-slo-${slo}`);
      // First steps and a link to the panel that shows the indicator (the workspace endpoint is a token).
      const description = JSON.stringify(alarm?.AlarmDescription);
      expect(description).toContain(runbookPath(slo));
      expect(description).toContain(`First steps: ${ALARM_GUIDE[slo].firstSteps}`);
      expect(description).toContain(
        `/d/${OVERVIEW_UID}/?viewPanel=${OVERVIEW_PANELS[ALARM_GUIDE[slo].panel]}`,
      );
      expect(description.length).toBeLessThan(1024);
      expect(alarm?.AlarmActions).toHaveLength(1);
      expect(fs.existsSync(path.join(REPO_ROOT, runbookPath(slo)))).toBe(true);
    }
    observability.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    observability.hasResourceProperties('AWS::Grafana::Workspace', {
      PermissionType: 'SERVICE_MANAGED',
      DataSources: Match.arrayWith(['CLOUDWATCH', 'ATHENA']),
    });
    // Data sources and dashboards reach the workspace at deploy time, through the provisioner.
    const [provisioning] = resources(observability, 'Custom::GrafanaProvisioning');
    const spec = JSON.stringify(provisioning?.Properties.Spec);
    expect(spec).toContain(OVERVIEW_UID);
    expect(spec).toContain('grafana-athena-datasource');
    expect(JSON.stringify(provisioning?.Properties.ServiceToken)).toContain('GrafanaProvisioner');
  });

  it('Grafana reads curated and gold, not raw or quarantine; Logs Insights only on the platform log groups', () => {
    const observability = t('Observability');
    const statements = resources(observability, 'AWS::IAM::Policy')
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('GrafanaRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
    const actions = (s: Record<string, unknown>) => [s.Action].flat() as string[];
    const reads = JSON.stringify(
      statements.filter((s) => actions(s).includes('s3:GetObject')).map((s) => s.Resource),
    );
    expect(reads).toMatch(/Lakecurated/);
    expect(reads).toMatch(/Lakegold/);
    expect(reads).not.toMatch(/Lakeraw|Lakequarantine/);
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(JSON.stringify(deny?.Resource)).toMatch(/table\/[a-z_]+\/raw_\*/);
    expect(JSON.stringify(deny?.Resource)).toMatch(/table\/[a-z_]+\/quarantine_\*/);
    const query = statements.find((s) => actions(s).includes('logs:StartQuery'));
    expect(query?.Resource).not.toBe('*');
    for (const s of statements.filter((s) => s.Resource === '*')) {
      expect(actions(s).filter((a) => a.startsWith('s3:') || a.startsWith('logs:Start'))).toEqual([]);
    }
  });

  it('disaster recovery: data zones replicate to the replica region under its own key where configured', () => {
    const buckets = Object.values(t('Data').findResources('AWS::S3::Bucket')).map((b) => b.Properties);
    const replicated = buckets.filter((b) => b.ReplicationConfiguration);
    if (!config.replicaRegion) {
      expect(replicated).toEqual([]);
      expect(synthesized[env].templates.Replica).toBeUndefined();
      return;
    }
    expect(replicated.map((b) => b.BucketName).sort()).toEqual(
      REPLICATED_ZONES.map((z) => bucketName(config, z)).sort(),
    );
    for (const bucket of replicated) {
      const [rule] = bucket.ReplicationConfiguration.Rules;
      const zone = REPLICATED_ZONES.find((z) => bucket.BucketName === bucketName(config, z)) as string;
      expect(rule).toMatchObject({
        Status: 'Enabled',
        DeleteMarkerReplication: { Status: 'Disabled' },
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        Destination: {
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
          EncryptionConfiguration: { ReplicaKmsKeyID: expect.any(String) },
        },
      });
      expect(JSON.stringify(rule.Destination.Bucket)).toContain(replicaBucketName(config, zone as never));
      expect(JSON.stringify(rule.Destination.EncryptionConfiguration)).toContain(
        `:kms:${config.replicaRegion}:`,
      );
    }
    const replica = synthesized[env].templates.Replica as Template;
    expect(synthesized[env].regions.Replica).toBe(config.replicaRegion);
    replica.hasResourceProperties('AWS::KMS::Alias', { AliasName: replicaKeyAlias(config) });
    const replicas = Object.values(replica.findResources('AWS::S3::Bucket')).map((b) => b.Properties);
    for (const zone of REPLICATED_ZONES) {
      const copy = replicas.find((b) => b.BucketName === replicaBucketName(config, zone));
      expect(copy?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(
        copy?.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm,
      ).toBe('aws:kms');
    }
  });

  it('network: private subnets in every AZ, flow logs, S3 gateway endpoint', () => {
    const network = t('Network');
    const subnets = resources(network, 'AWS::EC2::Subnet').map((s) => s.Properties.AvailabilityZone);
    expect(new Set(subnets).size).toBe(config.availabilityZones);
    network.resourceCountIs('AWS::EC2::FlowLog', 1);
    network.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });

  it('split constructs keep the logical IDs of the deployed resources (updated in place, never replaced)', () => {
    const ids = (stack: string) => Object.keys(t(stack).toJSON().Resources);
    expect(ids('Processing')).toEqual(
      expect.arrayContaining([
        'ProcessingJobrawtocurated6109A054',
        'ProcessingJobcuratedtogold6E7C21D5',
        'ProcessingGlueRole072569BA',
        'ProcessingGlueKey0C577B8D',
        'ProcessingSecurityConfiguration307C1CE9',
        'ProcessingEmrApplicationA3849217',
        'ProcessingEmrJobRole9B018903',
        'OrchestrationExecutionRole16D7951D',
        'OrchestrationEnvironment2A858D31',
      ]),
    );
    expect(ids('Observability')).toEqual(
      expect.arrayContaining([
        'ObservabilityAlarms72EB291A',
        'ObservabilityAlarmsKey17F1BE5C',
        'ObservabilityDashboard9A1D08B3',
        'ObservabilityGrafanaWorkspace23F2006F',
        'ObservabilityGrafanaProvisioning181D1F19',
        'ObservabilityGrafanaProvisionerRoleC1510F44',
        'ObservabilitySloingestlatencyABE7D6C8',
        'ObservabilitySloapiavailability1E6FB3DB',
      ]),
    );
  });
});
