import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  aws_ec2 as ec2,
  aws_emrserverless as emr,
  Fn,
  aws_glue as glue,
  aws_iam as iam,
  aws_kms as kms,
  Stack,
  type aws_s3 as s3,
  aws_s3_deployment as s3deploy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DatasetDefinition } from '../../schemas';
import type { DeployableConfig } from '../config/environments';
import { QUARANTINE_CURATED_PREFIX } from '../config/lake';
import { acknowledge, allowWildcards, objectsUnder } from '../nag';
import { REPO_ROOT } from './lambda-function';

/** Lake zones the Spark jobs touch (the data lake's buckets). */
export interface SparkBuckets {
  readonly raw: s3.IBucket;
  readonly curated: s3.IBucket;
  readonly gold: s3.IBucket;
  readonly quarantine: s3.IBucket;
  /** Scripts, schemas, job state (bookmarks, run summaries) and temporary files. */
  readonly scripts: s3.IBucket;
}

export interface ProcessingProps {
  readonly config: DeployableConfig;
  readonly datasets: readonly DatasetDefinition[];
  readonly buckets: SparkBuckets;
  readonly lakeKey: kms.IKey;
  readonly glueDatabase: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
}

const SCRIPTS_DIR = path.join(REPO_ROOT, 'glue-scripts');
const SPARK_LIBRARY = 'lakehouse_spark';
/** Key prefixes in the scripts bucket. */
export const SCRIPT_PREFIXES = {
  jobs: 'spark/jobs/',
  library: 'spark/lib/',
  schemas: 'spark/schemas/',
  state: 'spark/state',
  temp: 'spark/tmp',
} as const;

/** The job entry points: every top-level glue-scripts/*.py. */
export function sparkJobScripts(): string[] {
  return fs
    .readdirSync(SCRIPTS_DIR)
    .filter((f) => f.endsWith('.py'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Glue job name of a script, e.g. lakehouse-prod-raw_to_curated; the DAGs derive the same names. */
export function glueJobName(config: DeployableConfig, script: string): string {
  return `${config.prefix}-${script}`;
}

/**
 * The Spark runtimes: one Glue 5.0 job per script of glue-scripts/ (the dataset is a run argument) and an
 * EMR Serverless application as the alternative runtime; both run the same files from the scripts bucket
 * with the same least-privilege data permissions (read raw, write curated/gold/quarantine, state).
 */
export class Processing extends Construct {
  readonly glueRole: iam.Role;
  readonly emrJobRole: iam.Role;
  readonly emrApplication: emr.CfnApplication;
  /** Glue job name per script of glue-scripts/ (raw_to_curated → lakehouse-prod-raw_to_curated). */
  readonly jobs: Record<string, string> = {};
  /** Arguments every job run gets (zone URIs, schemas); the DAGs add --dataset. */
  readonly jobArguments: Record<string, string>;

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    const { config, buckets } = props;
    const { partition, region, account } = Stack.of(this);

    const jobs = new s3deploy.BucketDeployment(this, 'Jobs', {
      sources: [s3deploy.Source.asset(SCRIPTS_DIR, { exclude: ['*', '!*.py'] })],
      destinationBucket: buckets.scripts,
      destinationKeyPrefix: SCRIPT_PREFIXES.jobs,
    });
    // Python imports a zip whose root holds the package folder; extract: false keeps the asset's zip.
    const library = new s3deploy.BucketDeployment(this, 'Library', {
      sources: [
        s3deploy.Source.asset(SCRIPTS_DIR, {
          exclude: ['*', `!${SPARK_LIBRARY}`, `!${SPARK_LIBRARY}/**`, '**/__pycache__', '**/*.pyc'],
        }),
      ],
      destinationBucket: buckets.scripts,
      destinationKeyPrefix: SCRIPT_PREFIXES.library,
      extract: false,
    });
    const schemas = new s3deploy.BucketDeployment(this, 'Schemas', {
      sources: [s3deploy.Source.asset(path.join(REPO_ROOT, 'schemas/generated'))],
      destinationBucket: buckets.scripts,
      destinationKeyPrefix: SCRIPT_PREFIXES.schemas,
    });
    acknowledgeBucketDeployment(jobs);
    const libraryUri = buckets.scripts.s3UrlForObject(
      `${SCRIPT_PREFIXES.library}${Fn.select(0, library.objectKeys)}`,
    );

    this.jobArguments = {
      '--raw_uri': buckets.raw.s3UrlForObject(),
      '--curated_uri': buckets.curated.s3UrlForObject(),
      '--gold_uri': buckets.gold.s3UrlForObject(),
      '--quarantine_uri': buckets.quarantine.s3UrlForObject(QUARANTINE_CURATED_PREFIX),
      '--state_uri': buckets.scripts.s3UrlForObject(SCRIPT_PREFIXES.state),
      '--schema_uri': buckets.scripts.s3UrlForObject(SCRIPT_PREFIXES.schemas.slice(0, -1)),
      '--min_group_count': String(config.lake.goldMinGroupCount),
      // The quality gate's objective (a run rejecting more stays unpublished), as the SLO alarm's.
      '--max_rejected_share': String(config.alarms.rejectedRatio),
    };

    this.glueRole = new iam.Role(this, 'GlueRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue Spark jobs of the lakehouse',
    });
    this.emrJobRole = new iam.Role(this, 'EmrJobRole', {
      assumedBy: new iam.ServicePrincipal('emr-serverless.amazonaws.com'),
      description: 'EMR Serverless Spark job runs of the lakehouse',
    });
    for (const role of [this.glueRole, this.emrJobRole]) this.grantSparkData(role, props);

    // Glue writes logs and bookmarks encrypted with its own key; CloudWatch Logs must be allowed to use it.
    const glueKey = new kms.Key(this, 'GlueKey', {
      alias: `alias/${config.prefix}-glue`,
      description: 'Encrypts Glue job logs and bookmarks',
      enableKeyRotation: true,
    });
    glueKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:*` },
        },
      }),
    );
    glueKey.grant(this.glueRole, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    const securityConfiguration = new glue.CfnSecurityConfiguration(this, 'SecurityConfiguration', {
      name: `${config.prefix}-spark`,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.lakeKey.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: glueKey.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: glueKey.keyArn },
      },
    });
    this.glueRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [`arn:${partition}:logs:${region}:${account}:log-group:/aws-glue/*`],
      }),
    );
    this.glueRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );

    for (const role of [this.glueRole, this.emrJobRole]) {
      allowWildcards(role, [
        {
          finding: objectsUnder(
            `${QUARANTINE_CURATED_PREFIX}/`,
            'spark/',
            `${SCRIPT_PREFIXES.state}/`,
            `${SCRIPT_PREFIXES.temp}/`,
          ),
          reason:
            'Curated quarantine table, the deployed scripts, job state and temporary files: prefix-scoped.',
        },
        {
          finding: /^Resource::[^/]*Lake(raw|curated|gold)[^/]*\/\*$/,
          reason:
            'Spark reads every raw object and rewrites whole Delta tables of the curated and gold zones.',
        },
        {
          finding: new RegExp(`^Resource::arn:[^:]+:glue:[^:]+:[^:]+:table/${props.glueDatabase}/\\*$`),
          reason: 'Tables of the lakehouse database only (gold tables are registered by the gold job).',
        },
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
    }

    for (const script of sparkJobScripts()) {
      const name = glueJobName(config, script);
      const job = new glue.CfnJob(this, `Job-${script}`, {
        name,
        role: this.glueRole.roleArn,
        glueVersion: '5.0',
        workerType: config.processing.glueWorkerType,
        numberOfWorkers: config.processing.glueWorkers,
        timeout: config.processing.jobTimeoutMinutes,
        maxRetries: 0,
        executionProperty: { maxConcurrentRuns: Math.max(props.datasets.length, 1) },
        securityConfiguration: securityConfiguration.name as string,
        command: {
          name: 'glueetl',
          pythonVersion: '3',
          scriptLocation: buckets.scripts.s3UrlForObject(`${SCRIPT_PREFIXES.jobs}${script}.py`),
        },
        defaultArguments: {
          ...this.jobArguments,
          '--datalake-formats': 'delta',
          '--extra-py-files': libraryUri,
          '--enable-glue-datacatalog': 'true',
          '--enable-metrics': 'true',
          '--enable-observability-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
          '--job-bookmark-option': 'job-bookmark-disable',
          '--TempDir': buckets.scripts.s3UrlForObject(SCRIPT_PREFIXES.temp),
          '--glue_database': props.glueDatabase,
        },
      });
      job.addResourceDependency(securityConfiguration);
      // The library zip is referenced (so depended on) through --extra-py-files.
      for (const deployment of [jobs, schemas]) job.node.addDependency(deployment);
      this.jobs[script] = name;
    }

    const emrSecurityGroup = new ec2.SecurityGroup(this, 'EmrSg', {
      vpc: props.vpc,
      description: 'EMR Serverless Spark workers',
    });
    this.emrApplication = new emr.CfnApplication(this, 'EmrApplication', {
      name: `${config.prefix}-spark`,
      releaseLabel: 'emr-7.9.0',
      type: 'SPARK',
      architecture: 'ARM64',
      maximumCapacity: {
        cpu: `${config.processing.emrMaxVcpu} vCPU`,
        memory: `${config.processing.emrMaxMemoryGb} GB`,
      },
      autoStartConfiguration: { enabled: true },
      autoStopConfiguration: { enabled: true, idleTimeoutMinutes: 15 },
      networkConfiguration: {
        subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
        securityGroupIds: [emrSecurityGroup.securityGroupId],
      },
    });
  }

  get jobNames(): string[] {
    return Object.values(this.jobs);
  }

  /** Read raw, write curated/gold/quarantine(curated)/state, read scripts; the catalog database; the lake key. */
  private grantSparkData(role: iam.Role, props: ProcessingProps): void {
    const { buckets } = props;
    const { partition, region, account } = Stack.of(this);
    const statement = (actions: string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    const write = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
    statement(
      ['s3:ListBucket'],
      Object.values(buckets).map((b) => b.bucketArn),
    );
    statement(['s3:GetObject'], [buckets.raw.arnForObjects('*'), buckets.scripts.arnForObjects('spark/*')]);
    statement(write, [
      buckets.curated.arnForObjects('*'),
      buckets.gold.arnForObjects('*'),
      buckets.quarantine.arnForObjects(`${QUARANTINE_CURATED_PREFIX}/*`),
      buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.state}/*`),
      buckets.scripts.arnForObjects(`${SCRIPT_PREFIXES.temp}/*`),
    ]);
    props.lakeKey.grant(role, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
    statement(
      [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
        'glue:BatchGetPartition',
        'glue:CreateTable',
        'glue:UpdateTable',
        'glue:BatchCreatePartition',
      ],
      [
        glueArn('catalog'),
        glueArn(`database/${props.glueDatabase}`),
        glueArn(`table/${props.glueDatabase}/*`),
      ],
    );
  }
}

/**
 * BucketDeployment's provider (a CDK-managed singleton Lambda per stack): its role and runtime are CDK's.
 */
export function acknowledgeBucketDeployment(deployment: s3deploy.BucketDeployment): void {
  const provider = deployment.handlerRole.node.scope as Construct;
  acknowledge(
    provider,
    'AwsSolutions-L1',
    'CDK-managed BucketDeployment provider; its runtime is pinned by aws-cdk-lib.',
  );
  acknowledge(
    provider,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-managed BucketDeployment provider writes its own logs with the basic execution policy.',
  );
  allowWildcards(provider, [
    {
      finding:
        /^(Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*|Action::kms:(GenerateDataKey|ReEncrypt)\*)$/,
      reason:
        'CDK-managed BucketDeployment copies asset objects into the destination prefix and prunes stale ones.',
    },
    {
      finding: /^Resource::.*(cdk-[a-z0-9]+-assets-|scripts|dags).*\/\*$/,
      reason:
        'CDK-managed BucketDeployment reads the CDK asset bucket and writes the scripts and DAGs buckets.',
    },
  ]);
}
