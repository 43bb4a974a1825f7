import { aws_glue as glue, aws_iam as iam, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  glueJobName,
  ICEBERG_SPARK_CONF,
  lineageSparkConf,
  SCRIPT_PREFIXES,
  s3Uri,
  sparkJobArguments,
  sparkJobScripts,
} from '../config/spark-jobs';
import { acknowledge, allowWildcards } from '../nag';
import { logsEncryptionKey } from './logs-key';
import type { SparkArtifacts } from './spark-artifacts';
import { bucketNames, grantSparkData, type SparkDataAccess } from './spark-data-access';

export interface GlueJobsProps extends SparkDataAccess {
  /** Prefix of the job, key and security configuration names (`<prefix>-<script>`). */
  readonly prefix: string;
  /** What the jobs run (scripts, library, schemas, jars), uploaded by SparkArtifacts. */
  readonly artifacts: SparkArtifacts;
  /**
   * The environment's settings the job arguments carry: objectives the jobs enforce (gold group size, the
   * quality gate's rejected share) and the table format (Iceberg adds its Spark configuration).
   */
  readonly objectives: Parameters<typeof sparkJobArguments>[1];
  /**
   * Scripts of glue-scripts/ to define a job for.
   * @default every top-level glue-scripts/*.py
   */
  readonly scripts?: readonly string[];
  /** Runs of one job at once; a run processes one dataset. */
  readonly maxConcurrentRuns: number;
  /** @default 'G.1X' */
  readonly workerType?: 'G.1X' | 'G.2X';
  /** @default 2 */
  readonly workers?: number;
  /** @default 60 */
  readonly timeoutMinutes?: number;
  /**
   * A Glue security configuration encrypting the jobs' logs and bookmarks with a key of their own. Off only
   * where the AWS emulator has none (hybrid), whose jobs are registered but run by the local Spark runner.
   * @default true
   */
  readonly securityConfiguration?: boolean;
}

/**
 * One Glue 5.0 job per script of glue-scripts/ (the dataset is a run argument), run by a role with the
 * Spark data permissions, logs and bookmarks encrypted with a key of their own, and the OpenLineage
 * listener writing each run's lineage to the scripts bucket.
 */
export class GlueJobs extends Construct {
  readonly role: iam.Role;
  /** Glue job name per script of glue-scripts/ (raw_to_curated → lakehouse-prod-raw_to_curated). */
  readonly jobs: Record<string, string> = {};
  /** Arguments every job run gets (zone URIs, schemas); the DAGs add --dataset. */
  readonly jobArguments: Record<string, string>;
  /** The Spark jobs' Glue security configuration (S3, logs and bookmarks encryption), if any. */
  readonly securityConfigurationName?: string;

  constructor(scope: Construct, id: string, props: GlueJobsProps) {
    super(scope, id);
    const { artifacts, buckets, prefix } = props;
    const { partition, region, account } = Stack.of(this);
    this.jobArguments = {
      ...sparkJobArguments(bucketNames(buckets), props.objectives),
      '--schema_uri': artifacts.schemaUri,
    };

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue Spark jobs of the lakehouse',
    });
    grantSparkData(this.role, props, props.objectives.tableFormat);

    const securityConfiguration = (props.securityConfiguration ?? true) ? this.encryption(props) : undefined;
    this.securityConfigurationName = securityConfiguration?.name;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [`arn:${partition}:logs:${region}:${account}:log-group:/aws-glue/*`],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
    allowWildcards(this.role, [
      {
        finding: /^Resource::arn:[^:]+:logs:[^:]+:[^:]+:log-group:\/aws-glue\/\*$/,
        reason: 'Glue writes job logs to log groups under /aws-glue/ that it names per run.',
      },
      {
        finding: /^Resource::\*$/,
        reason:
          'cloudwatch:PutMetricData has no resource-level permissions; restricted to the Glue namespace by condition.',
      },
    ]);

    // Glue takes extra Spark settings as one --conf value: "k1=v1 --conf k2=v2".
    const iceberg = props.objectives.tableFormat === 'iceberg';
    const sparkConf = {
      ...lineageSparkConf(s3Uri(buckets.scripts.bucketName, SCRIPT_PREFIXES.lineage)),
      ...(iceberg && ICEBERG_SPARK_CONF),
    };
    const conf = Object.entries(sparkConf)
      .map(([k, v]) => `${k}=${v}`)
      .join(' --conf ');
    for (const script of props.scripts ?? sparkJobScripts()) {
      const name = glueJobName({ prefix }, script);
      const job = new glue.CfnJob(this, `Job-${script}`, {
        name,
        role: this.role.roleArn,
        glueVersion: '5.0',
        workerType: props.workerType ?? 'G.1X',
        numberOfWorkers: props.workers ?? 2,
        timeout: props.timeoutMinutes ?? 60,
        maxRetries: 0,
        executionProperty: { maxConcurrentRuns: props.maxConcurrentRuns },
        securityConfiguration: securityConfiguration?.name,
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: artifacts.scriptUri(script) },
        defaultArguments: {
          ...this.jobArguments,
          // The jobs' state tables are Delta whatever the format of the lake's tables.
          '--datalake-formats': iceberg ? 'delta,iceberg' : 'delta',
          '--extra-py-files': artifacts.libraryUri,
          '--extra-jars': artifacts.jarUris.join(','),
          '--conf': conf,
          '--enable-glue-datacatalog': 'true',
          '--enable-metrics': 'true',
          '--enable-observability-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
          '--job-bookmark-option': 'job-bookmark-disable',
          '--TempDir': buckets.scripts.s3UrlForObject(SCRIPT_PREFIXES.temp),
          '--glue_database': props.glueDatabase,
        },
      });
      if (securityConfiguration) job.addResourceDependency(securityConfiguration);
      else acknowledgeUnencrypted(job);
      // The library zip is referenced (so depended on) through --extra-py-files.
      for (const deployment of artifacts.deployments) job.node.addDependency(deployment);
      this.jobs[script] = name;
    }
  }

  /** Glue writes logs and bookmarks encrypted with its own key; CloudWatch Logs must be allowed to use it. */
  private encryption(props: GlueJobsProps): glue.CfnSecurityConfiguration {
    const key = logsEncryptionKey(this, {
      alias: `alias/${props.prefix}-glue`,
      description: 'Encrypts Glue job logs and bookmarks',
    });
    key.grant(this.role, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    return new glue.CfnSecurityConfiguration(this, 'SecurityConfiguration', {
      name: `${props.prefix}-spark`,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.lakeKey.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: key.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: key.keyArn },
      },
    });
  }

  get jobNames(): string[] {
    return Object.values(this.jobs);
  }
}

/** A job without a security configuration: only where the emulator has none (see GlueJobsProps). */
export function acknowledgeUnencrypted(job: glue.CfnJob): void {
  const reason =
    'Only in an environment whose AWS emulator has no Glue security configurations (hybrid): the job is registered there, never run (the local Spark runner runs the scripts); every AWS environment encrypts.';
  acknowledge(job, 'AwsSolutions-GL1', reason);
  acknowledge(job, 'AwsSolutions-GL3', reason);
}
