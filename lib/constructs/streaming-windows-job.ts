import {
  aws_cloudwatch as cw,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_ec2 as ec2,
  aws_glue as glue,
  aws_iam as iam,
  Stack,
  type aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, STREAMING_METRICS } from '../../lambdas/shared/metric-names';
import type { DatasetDefinition } from '../../schemas';
import { topicOf } from '../../schemas';
import { QUARANTINE_CURATED_PREFIX } from '../config/lake';
import {
  glueJobName,
  ICEBERG_SPARK_CONF,
  SCRIPT_PREFIXES,
  STREAMING_WINDOWS,
  streamedDatasets,
  streamingConsumerGroupPrefix,
  streamingWindowsArguments,
} from '../config/spark-jobs';
import { acknowledge, allowWildcards, objectsUnder } from '../nag';
import { acknowledgeUnencrypted } from './glue-jobs';
import type { SparkArtifacts } from './spark-artifacts';
import { bucketNames, type SparkDataAccess } from './spark-data-access';
import type { Streaming } from './streaming';

export interface StreamingWindowsJobProps extends SparkDataAccess {
  /** Prefix of the job, connection and group names. */
  readonly prefix: string;
  /** What the job runs (the scripts, library, schemas), uploaded by SparkArtifacts. */
  readonly artifacts: SparkArtifacts;
  /** The environment's objectives and table format, as the batch jobs get them. */
  readonly objectives: Parameters<typeof streamingWindowsArguments>[1];
  /** The datasets of the platform; those with a streamingWindow are streamed. */
  readonly datasets: readonly DatasetDefinition[];
  /** The MSK cluster: its raw topics are read with IAM auth from its client security group. */
  readonly kafka: Streaming;
  readonly vpc: ec2.IVpc;
  /** The private subnet of `vpc` the job's network connection (and so its ENIs) lives in. */
  readonly subnet: ec2.ISubnet;
  /** The Glue security configuration of the Spark jobs (logs and bookmarks encrypted with its key), if any. */
  readonly securityConfiguration?: string;
  /** @default 2 */
  readonly workers?: number;
}

/**
 * The streaming windows job (glue-scripts/streaming_windows.py) as a Glue 5.0 streaming job: its own role,
 * allowed to read the streamed topics as its consumer groups only and to write the gold windows table, the
 * late-records quarantine and its checkpoint and state; a network connection into the cluster's client
 * security group; and a schedule that starts it, and starts it again within ten minutes should it stop.
 */
export class StreamingWindowsJob extends Construct {
  readonly jobName: string;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: StreamingWindowsJobProps) {
    super(scope, id);
    const { artifacts, buckets, kafka, prefix } = props;
    const { partition, region, account } = Stack.of(this);
    this.jobName = glueJobName({ prefix }, STREAMING_WINDOWS.script);
    const topics = streamedDatasets(props.datasets).map(topicOf);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'The lakehouse streaming windows job',
    });
    const statement = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    statement(
      ['s3:ListBucket'],
      [buckets.gold.bucketArn, buckets.quarantine.bucketArn, buckets.scripts.bucketArn],
    );
    statement(['s3:GetObject'], [buckets.scripts.arnForObjects('spark/*')]);
    statement(
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      [
        buckets.gold.arnForObjects('*'),
        buckets.quarantine.arnForObjects(`${QUARANTINE_CURATED_PREFIX}/*`),
        buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.state}/${STREAMING_WINDOWS.script}/*`),
        buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.temp}/*`),
      ],
    );
    props.lakeKey.grant(this.role, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
    statement(
      [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:CreateTable',
        'glue:UpdateTable',
        'glue:GetConnection',
      ],
      [
        glueArn('catalog'),
        glueArn(`database/${props.glueDatabase}`),
        glueArn(`table/${props.glueDatabase}/*`),
        glueArn(`connection/${prefix}-*`),
      ],
    );
    // Spark's Kafka source names its groups <prefix>-<query id>: the grant is that prefix's groups only.
    kafka.grantConsume(this.role, topics, [`${streamingConsumerGroupPrefix({ prefix })}*`]);
    statement(['cloudwatch:PutMetricData'], ['*'], {
      StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE },
    });
    statement(
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
      [`arn:${partition}:logs:${region}:${account}:log-group:/aws-glue/*`],
    );
    allowWildcards(this.role, [
      {
        finding: objectsUnder(
          `${QUARANTINE_CURATED_PREFIX}/`,
          'spark/',
          `${SCRIPT_PREFIXES.state}/${STREAMING_WINDOWS.script}/`,
          `${SCRIPT_PREFIXES.temp}/`,
        ),
        reason:
          'The job writes the windows table, its late-records quarantine, its checkpoint and state under these prefixes, whose object keys it names.',
      },
      {
        finding: /^Resource::[^/]*Lakegold[^/]*\/\*$/,
        reason: 'The gold windows table: Delta or Iceberg files the job names.',
      },
      {
        finding: /^Resource::arn:[^:]+:glue:[^:]+:[^:]+:(table\/[^/]+\/\*|connection\/.+-\*)$/,
        reason:
          'The windows and late-records tables the job registers in the lakehouse database; its own connection.',
      },
      {
        finding: /^Resource::arn:[^:]+:kafka:.*\*$/,
        reason: 'Spark names its consumer groups <prefix>-<query id>; the grant is that prefix only.',
      },
      {
        finding: /^Resource::\*$/,
        reason:
          'PutMetricData (restricted to the lakehouse namespace by condition) and the ENI actions of a Glue network connection have no resource-level permissions.',
      },
      {
        finding: /^Resource::arn:[^:]+:logs:[^:]+:[^:]+:log-group:\/aws-glue\/\*$/,
        reason: 'Glue writes job logs to log groups under /aws-glue/ that it names per run.',
      },
    ]);

    // The job reaches MSK from the VPC; an external broker (hybrid) is reached without one.
    const connection = kafka.connection.kind === 'msk' ? this.networkConnection(props) : undefined;

    const iceberg = props.objectives.tableFormat === 'iceberg';
    const conf = Object.entries(iceberg ? ICEBERG_SPARK_CONF : {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' --conf ');
    const job = new glue.CfnJob(this, 'Job', {
      name: this.jobName,
      role: this.role.roleArn,
      glueVersion: '5.0',
      workerType: 'G.1X',
      numberOfWorkers: props.workers ?? 2,
      maxRetries: 0,
      executionProperty: { maxConcurrentRuns: 1 },
      securityConfiguration: props.securityConfiguration,
      ...(connection && { connections: { connections: [connection.ref] } }),
      command: {
        name: 'gluestreaming',
        pythonVersion: '3',
        scriptLocation: artifacts.scriptUri(STREAMING_WINDOWS.script),
      },
      defaultArguments: {
        ...streamingWindowsArguments(
          bucketNames(buckets),
          props.objectives,
          {
            kafka:
              kafka.connection.kind === 'msk'
                ? { clusterArn: kafka.connection.clusterArn }
                : { bootstrapServers: kafka.connection.bootstrapServers },
            datasets: props.datasets,
          },
          true,
        ),
        '--schema_uri': artifacts.schemaUri,
        '--glue_database': props.glueDatabase,
        '--datalake-formats': iceberg ? 'delta,iceberg' : 'delta',
        '--extra-py-files': artifacts.libraryUri,
        ...(conf && { '--conf': conf }),
        '--enable-metrics': 'true',
        '--enable-continuous-cloudwatch-log': 'true',
        '--job-bookmark-option': 'job-bookmark-disable',
        '--TempDir': buckets.scripts.s3UrlForObject(SCRIPT_PREFIXES.temp),
      },
    });
    for (const deployment of artifacts.deployments) job.node.addDependency(deployment);
    if (!props.securityConfiguration) acknowledgeUnencrypted(job);
    new glue.CfnTrigger(this, 'KeepRunning', {
      name: `${this.jobName}-keep-running`,
      description:
        'Starts the streaming job, and again within 10 minutes after it stops; while it runs, the start is refused (one run at a time).',
      type: 'SCHEDULED',
      schedule: 'cron(0/10 * * * ? *)',
      startOnCreation: true,
      actions: [{ jobName: this.jobName }],
    }).addResourceDependency(job);
  }

  /** A network connection into the cluster's client security group, and the ENI actions it needs. */
  private networkConnection(props: StreamingWindowsJobProps): glue.CfnConnection {
    const { account } = Stack.of(this);
    const { kafka, prefix } = props;
    // A job with a network connection runs in ENIs Glue creates in the subnet.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeVpcEndpoints',
          'ec2:DescribeRouteTables',
          'ec2:DescribeVpcAttribute',
          'ec2:CreateTags',
          'ec2:DeleteTags',
        ],
        resources: ['*'],
      }),
    );
    // Glue requires a security group of a connection to admit itself; the client group admits it to MSK.
    const securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'Glue streaming windows job: its own workers',
      allowAllOutbound: true,
    });
    securityGroup.addIngressRule(securityGroup, ec2.Port.allTcp(), 'Glue workers of the job');
    const connection = new glue.CfnConnection(this, 'Network', {
      catalogId: account,
      connectionInput: {
        name: `${prefix}-streaming-network`,
        connectionType: 'NETWORK',
        physicalConnectionRequirements: {
          subnetId: props.subnet.subnetId,
          availabilityZone: props.subnet.availabilityZone,
          securityGroupIdList: [kafka.clientSecurityGroup.securityGroupId, securityGroup.securityGroupId],
        },
      },
    });

    acknowledge(
      connection,
      'CloudFormation-Validate::W3010',
      "The connection's AZ is its subnet's, which the environment config names so that synth needs no AZ lookup.",
    );

    return connection;
  }
}

export interface StreamingWindowsAlarmsProps {
  readonly prefix: string;
  /** Messages behind the topics' ends that page (the consumer-lag objective's). */
  readonly lagMessages: number;
  /** Seconds from event to window row, p99 over 5 minutes, that page. */
  readonly freshnessSeconds: number;
  readonly topic: sns.ITopic;
  /** The Grafana panel that shows the job's indicators. */
  readonly panelUrl: string;
}

export const STREAMING_WINDOWS_RUNBOOK = 'runbooks/streaming-windows.md';

/**
 * The streaming job's alarms, with the runbook: lag (which also fires when the job is not running: no data
 * is breaching) and freshness.
 */
export class StreamingWindowsAlarms extends Construct {
  readonly alarms: cw.Alarm[];

  constructor(scope: Construct, id: string, props: StreamingWindowsAlarmsProps) {
    super(scope, id);
    const metric = (metricName: string) =>
      new cw.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        statistic: 'Maximum',
        period: Duration.minutes(5),
      });
    const guide = `Runbook: ${STREAMING_WINDOWS_RUNBOOK}. Panel: ${props.panelUrl}`;
    this.alarms = [
      new cw.Alarm(this, 'Lag', {
        alarmName: `${props.prefix}-streaming-windows-lag`,
        alarmDescription: `Streaming windows job behind the raw topics by more than ${props.lagMessages} messages, or not running. ${guide}`,
        metric: metric(STREAMING_METRICS.offsetsBehind),
        threshold: props.lagMessages,
        evaluationPeriods: 3,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cw.TreatMissingData.BREACHING,
      }),
      new cw.Alarm(this, 'Freshness', {
        alarmName: `${props.prefix}-streaming-windows-freshness`,
        alarmDescription: `Streaming windows older than ${props.freshnessSeconds} s (event to window row, p99). ${guide}`,
        metric: metric(STREAMING_METRICS.freshnessP99),
        threshold: props.freshnessSeconds,
        evaluationPeriods: 3,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(new cwActions.SnsAction(props.topic));
  }
}
