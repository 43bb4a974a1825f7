import {
  aws_ec2 as ec2,
  type aws_iam as iam,
  type aws_kms as kms,
  aws_mwaa as mwaa,
  Stack,
  type aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DatasetDefinition } from '../../schemas';
import type { DeployableConfig } from '../config/environments';
import { SCRIPT_PREFIXES } from '../config/spark-jobs';
import { DagDeployment } from './dag-deployment';
import type { EmrServerless } from './emr-serverless';
import type { GlueJobs } from './glue-jobs';
import { logsEncryptionKey } from './logs-key';
import { MwaaExecutionRole } from './mwaa-execution-role';

export interface OrchestrationProps {
  /** Names the MWAA environment `<prefix>-airflow` (mwaaEnvironmentName) and its key. */
  readonly prefix: string;
  /** The MWAA environment's Airflow version, class and workers (an environment's `orchestration`). */
  readonly settings: DeployableConfig['orchestration'];
  /**
   * The largest share of a run's new rows raw_to_curated's quality gate lets it quarantine; the DAGs pass it
   * to each run (an environment's `alarms.rejectedRatio`).
   */
  readonly maxRejectedShare: number;
  readonly dagsBucket: s3.IBucket;
  readonly scriptsBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  /** The Glue jobs the DAGs run. */
  readonly glueJobs: GlueJobs;
  /** The EMR Serverless application the DAGs may run the same scripts on, where there is one. */
  readonly emr?: EmrServerless;
  /**
   * The MWAA environment that runs the DAGs. Off only where the AWS emulator has none (hybrid): the DAGs
   * and their configuration are still deployed to the bucket.
   * @default true
   */
  readonly mwaa?: boolean;
  /** Upload the DAGs at deploy (DagDeployment.upload). @default true */
  readonly uploadDags?: boolean;
  readonly datasets: readonly DatasetDefinition[];
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
}

/** The name of an environment's MWAA environment. */
export function mwaaEnvironmentName(env: Pick<DeployableConfig, 'prefix'>): string {
  return `${env.prefix}-airflow`;
}

/**
 * MWAA: the DAGs of dags/ (and its requirements.txt) deployed into the dags bucket, a private web server,
 * a customer KMS key, and an execution role that may run exactly the lakehouse's Glue jobs and EMR
 * Serverless application and read the jobs' run summaries for the quality gates.
 */
export class Orchestration extends Construct {
  readonly environment?: mwaa.CfnEnvironment;
  readonly role?: iam.Role;

  constructor(scope: Construct, id: string, props: OrchestrationProps) {
    super(scope, id);
    const { prefix, settings, glueJobs, emr } = props;
    const { region } = Stack.of(this);
    const name = mwaaEnvironmentName(props);

    // The DAGs read everything environment-specific from this file (see dags/lakehouse_pipeline.py).
    const dags = new DagDeployment(this, 'Dags', {
      bucket: props.dagsBucket,
      upload: props.uploadDags,
      config: {
        datasets: props.datasets.map((d) => d.name),
        glue_jobs: glueJobs.jobs,
        state_uri: props.scriptsBucket.s3UrlForObject(SCRIPT_PREFIXES.state),
        max_rejected_share: props.maxRejectedShare,
        schedule: '@hourly',
        region,
      },
    });

    if (props.mwaa === false) return;
    const key = logsEncryptionKey(this, {
      alias: `alias/${prefix}-airflow`,
      description: 'Encrypts the MWAA environment',
    });

    this.role = new MwaaExecutionRole(this, 'ExecutionRole', {
      environmentName: name,
      environmentKey: key,
      dagsBucket: props.dagsBucket,
      scriptsBucket: props.scriptsBucket,
      lakeKey: props.lakeKey,
      glueJobNames: glueJobs.jobNames,
      emr: emr && { applicationArn: emr.application.attrArn, jobRoleArn: emr.jobRole.roleArn },
    }).role;

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
      airflowVersion: settings.airflowVersion,
      environmentClass: settings.environmentClass,
      maxWorkers: settings.maxWorkers,
      executionRoleArn: this.role.roleArn,
      kmsKey: key.keyArn,
      sourceBucketArn: props.dagsBucket.bucketArn,
      dagS3Path: 'dags',
      requirementsS3Path: dags.requirementsPath,
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
    for (const deployment of dags.deployments) this.environment.node.addDependency(deployment);
  }
}
