import { aws_iam as iam, type aws_kms as kms, Stack, type aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SCRIPT_PREFIXES } from '../config/spark-jobs';
import { allowWildcards } from '../nag';

export interface MwaaExecutionRoleProps {
  /** The MWAA environment's name (its metrics and log groups are named after it). */
  readonly environmentName: string;
  /** The key that encrypts the MWAA environment. */
  readonly environmentKey: kms.IKey;
  readonly dagsBucket: s3.IBucket;
  /** Where the jobs' run summaries are (under spark/state), which the quality gates read. */
  readonly scriptsBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  /** The Glue jobs the DAGs may run. */
  readonly glueJobNames: readonly string[];
  /** The EMR Serverless application the DAGs may run jobs on, and the job role they pass. */
  /** The EMR Serverless application and job role the DAGs may run on, where there is one. */
  readonly emr?: { readonly applicationArn: string; readonly jobRoleArn: string };
}

/**
 * MWAA's execution role: what MWAA itself needs (its bucket, logs, metrics, Celery queues, key) plus exactly
 * the lakehouse's Glue jobs and EMR Serverless application, and the run summaries for the quality gates.
 */
export class MwaaExecutionRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MwaaExecutionRoleProps) {
    super(scope, id);
    const { partition, region, account } = Stack.of(this);
    const arn = (service: string, resource: string) =>
      `arn:${partition}:${service}:${region}:${account}:${resource}`;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('airflow.amazonaws.com'),
        new iam.ServicePrincipal('airflow-env.amazonaws.com'),
      ),
      description: 'MWAA execution role of the lakehouse',
    });
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(['airflow:PublishMetrics'], [arn('airflow', `environment/${props.environmentName}`)]);
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
      [arn('logs', `log-group:airflow-${props.environmentName}-*`)],
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
    props.environmentKey.grant(
      this.role,
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:GenerateDataKey',
      'kms:Encrypt',
    );
    props.lakeKey.grant(this.role, 'kms:Decrypt');
    // The DAGs: run the Glue jobs and EMR Serverless job runs, read run summaries for the quality gates.
    allow(
      ['glue:GetJob', 'glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
      props.glueJobNames.map((job) => arn('glue', `job/${job}`)),
    );
    if (props.emr) {
      const application = props.emr.applicationArn;
      allow(
        ['emr-serverless:StartJobRun', 'emr-serverless:GetJobRun', 'emr-serverless:CancelJobRun'],
        [application, `${application}/jobruns/*`],
      );
      allow(['emr-serverless:GetApplication', 'emr-serverless:StartApplication'], [application]);
      allow(['iam:PassRole'], [props.emr.jobRoleArn], {
        StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' },
      });
    }
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
  }
}
