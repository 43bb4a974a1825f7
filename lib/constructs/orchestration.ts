import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_kms as kms,
  aws_mwaa as mwaa,
  Stack,
  type aws_s3 as s3,
  aws_s3_deployment as s3deploy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DatasetDefinition } from '../../schemas';
import type { DeployableConfig } from '../config/environments';
import { SCRIPT_PREFIXES } from '../config/spark-jobs';
import { acknowledgeBucketDeployment, allowWildcards } from '../nag';
import type { EmrServerless } from './emr-serverless';
import type { GlueJobs } from './glue-jobs';
import { REPO_ROOT } from './lambda-function';

export interface OrchestrationProps {
  readonly config: DeployableConfig;
  readonly dagsBucket: s3.IBucket;
  readonly scriptsBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  /** The Glue jobs the DAGs run. */
  readonly glueJobs: GlueJobs;
  /** The EMR Serverless application the DAGs may run the same scripts on. */
  readonly emr: EmrServerless;
  readonly datasets: readonly DatasetDefinition[];
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
}

const DAGS_DIR = path.join(REPO_ROOT, 'dags');
const REQUIREMENTS = 'requirements.txt';
const DAG_CONFIG_FILE = 'lakehouse_dag_config.json';

/** The name of an environment's MWAA environment. */
export function mwaaEnvironmentName(config: DeployableConfig): string {
  return `${config.prefix}-airflow`;
}

/**
 * MWAA: the DAGs of dags/ (and its requirements.txt) deployed into the dags bucket, a private web server,
 * a customer KMS key, and an execution role that may run exactly the lakehouse's Glue jobs and EMR
 * Serverless application and read the jobs' run summaries for the quality gates.
 */
export class Orchestration extends Construct {
  readonly environment: mwaa.CfnEnvironment;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OrchestrationProps) {
    super(scope, id);
    const { config, glueJobs, emr } = props;
    const { partition, region, account } = Stack.of(this);
    const name = mwaaEnvironmentName(config);
    const arn = (service: string, resource: string) =>
      `arn:${partition}:${service}:${region}:${account}:${resource}`;

    // The DAGs read everything environment-specific from this file (see dags/lakehouse_pipeline.py).
    const dagConfig = {
      datasets: props.datasets.map((d) => d.name),
      glue_jobs: glueJobs.jobs,
      state_uri: props.scriptsBucket.s3UrlForObject(SCRIPT_PREFIXES.state),
      max_rejected_share: config.alarms.rejectedRatio,
      schedule: '@hourly',
      region,
    };
    const dags = new s3deploy.BucketDeployment(this, 'Dags', {
      sources: [
        s3deploy.Source.asset(DAGS_DIR, { exclude: [REQUIREMENTS, '**/__pycache__', '**/*.pyc'] }),
        s3deploy.Source.jsonData(DAG_CONFIG_FILE, dagConfig),
      ],
      destinationBucket: props.dagsBucket,
      destinationKeyPrefix: 'dags/',
    });
    const hasRequirements = fs.existsSync(path.join(DAGS_DIR, REQUIREMENTS));
    const requirements = hasRequirements
      ? new s3deploy.BucketDeployment(this, 'Requirements', {
          sources: [s3deploy.Source.asset(DAGS_DIR, { exclude: ['*', `!${REQUIREMENTS}`] })],
          destinationBucket: props.dagsBucket,
          // At the bucket root: pruning would delete the DAGs deployed under dags/.
          prune: false,
        })
      : undefined;

    const key = new kms.Key(this, 'Key', {
      alias: `alias/${config.prefix}-airflow`,
      description: 'Encrypts the MWAA environment',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn('logs', '*') } },
      }),
    );

    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('airflow.amazonaws.com'),
        new iam.ServicePrincipal('airflow-env.amazonaws.com'),
      ),
      description: 'MWAA execution role of the lakehouse',
    });
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(['airflow:PublishMetrics'], [arn('airflow', `environment/${name}`)]);
    allow(['s3:GetObject', 's3:GetObjectVersion'], [props.dagsBucket.arnForObjects('*')]);
    allow(['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketVersioning'], [props.dagsBucket.bucketArn]);
    allow(['s3:GetBucketPublicAccessBlock', 's3:GetAccountPublicAccessBlock'], ['*']);
    allow(
      [
        'logs:CreateLogStream',
        'logs:CreateLogGroup',
        'logs:PutLogEvents',
        'logs:GetLogEvents',
        'logs:GetLogRecord',
        'logs:GetLogGroupFields',
        'logs:GetQueryResults',
      ],
      [arn('logs', `log-group:airflow-${name}-*`)],
    );
    allow(['logs:DescribeLogGroups', 'cloudwatch:PutMetricData'], ['*']);
    allow(
      [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ],
      [`arn:${partition}:sqs:${region}:*:airflow-celery-*`],
    );
    key.grant(this.role, 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Encrypt');
    props.lakeKey.grant(this.role, 'kms:Decrypt');
    // The DAGs: run the Glue jobs and EMR Serverless job runs, read run summaries for the quality gates.
    allow(
      ['glue:GetJob', 'glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
      glueJobs.jobNames.map((job) => arn('glue', `job/${job}`)),
    );
    const application = emr.application.attrArn;
    allow(
      ['emr-serverless:StartJobRun', 'emr-serverless:GetJobRun', 'emr-serverless:CancelJobRun'],
      [application, `${application}/jobruns/*`],
    );
    allow(['emr-serverless:GetApplication', 'emr-serverless:StartApplication'], [application]);
    allow(['iam:PassRole'], [emr.jobRole.roleArn], {
      StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' },
    });
    allow(['s3:GetObject'], [props.scriptsBucket.arnForObjects(`${SCRIPT_PREFIXES.state}/*`)]);
    allow(['s3:ListBucket'], [props.scriptsBucket.bucketArn]);

    allowWildcards(this.role, [
      {
        finding: /^Resource::.*dags.*\/\*$/,
        reason: 'MWAA reads every object of its DAGs bucket (DAGs, requirements).',
      },
      {
        finding: /^Resource::arn:[^:]+:logs:.*:log-group:airflow-.*-\*$/,
        reason: 'MWAA names its log groups airflow-<environment>-<component>.',
      },
      {
        finding: /^Resource::arn:[^:]+:sqs:[^:]+:\*:airflow-celery-\*$/,
        reason:
          "MWAA's Celery queues live in an AWS-owned account under generated names (documented execution-role policy).",
      },
      { finding: /\/jobruns\/\*$/, reason: 'Job runs of the lakehouse EMR Serverless application only.' },
      {
        finding: /^Resource::.*spark\/state\/\*$/,
        reason: "Run summaries read by the DAGs' data-quality gates.",
      },
      {
        finding: /^Resource::\*$/,
        reason:
          'MWAA checks the account public access block and publishes metrics; logs:DescribeLogGroups, s3:GetAccountPublicAccessBlock and cloudwatch:PutMetricData have no resource-level permissions.',
      },
    ]);

    const securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'MWAA environment',
    });
    securityGroup.addIngressRule(securityGroup, ec2.Port.allTraffic(), 'MWAA components talk to each other');
    // MWAA needs exactly two private subnets in different AZs.
    const subnetIds = props.vpc.selectSubnets({ ...props.subnets, onePerAz: true }).subnetIds.slice(0, 2);
    const logging = { enabled: true, logLevel: 'INFO' };

    this.environment = new mwaa.CfnEnvironment(this, 'Environment', {
      name,
      airflowVersion: config.orchestration.airflowVersion,
      environmentClass: config.orchestration.environmentClass,
      maxWorkers: config.orchestration.maxWorkers,
      executionRoleArn: this.role.roleArn,
      kmsKey: key.keyArn,
      sourceBucketArn: props.dagsBucket.bucketArn,
      dagS3Path: 'dags',
      requirementsS3Path: hasRequirements ? REQUIREMENTS : undefined,
      webserverAccessMode: 'PRIVATE_ONLY',
      networkConfiguration: { subnetIds, securityGroupIds: [securityGroup.securityGroupId] },
      loggingConfiguration: {
        dagProcessingLogs: logging,
        schedulerLogs: logging,
        taskLogs: logging,
        webserverLogs: logging,
        workerLogs: logging,
      },
    });
    acknowledgeBucketDeployment(dags);
    this.environment.node.addDependency(dags);
    if (requirements) this.environment.node.addDependency(requirements);
  }
}
