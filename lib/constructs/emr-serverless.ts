import { aws_ec2 as ec2, aws_emrserverless as emr, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { TableFormat } from '../config/environments';
import { ICEBERG_SPARK_CONF, lineageSparkConf, SCRIPT_PREFIXES, s3Uri } from '../config/spark-jobs';
import type { SparkArtifacts } from './spark-artifacts';
import { grantSparkData, type SparkDataAccess } from './spark-data-access';

export interface EmrServerlessProps extends SparkDataAccess {
  /** The application is named `<prefix>-spark`. */
  readonly prefix: string;
  /** The jars every run loads (SparkArtifacts). */
  readonly artifacts: SparkArtifacts;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** @default 16 */
  readonly maxVcpu?: number;
  /** @default 64 */
  readonly maxMemoryGb?: number;
  /** @default 'emr-7.9.0' */
  readonly releaseLabel?: string;
  /** Iceberg adds the release's Delta and Iceberg jars and their Spark configuration. @default 'delta' */
  readonly tableFormat?: TableFormat;
}

/** Jars of the EMR release: Delta for the jobs' state tables, Iceberg for the lake's tables. */
const EMR_ICEBERG_JARS = [
  '/usr/share/aws/delta/lib/delta-spark.jar',
  '/usr/share/aws/delta/lib/delta-storage.jar',
  '/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar',
];

/**
 * The alternative Spark runtime: an EMR Serverless application in the VPC, whose runs (started by the
 * DAGs with the same scripts and arguments as Glue) load the extra jars and record OpenLineage events in
 * the scripts bucket by default, and a job role with the Spark data permissions.
 */
export class EmrServerless extends Construct {
  readonly application: emr.CfnApplication;
  readonly jobRole: iam.Role;

  constructor(scope: Construct, id: string, props: EmrServerlessProps) {
    super(scope, id);
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('emr-serverless.amazonaws.com'),
      description: 'EMR Serverless Spark job runs of the lakehouse',
    });
    grantSparkData(this.jobRole, props, props.tableFormat);
    const securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'EMR Serverless Spark workers',
    });
    const lineage = lineageSparkConf(s3Uri(props.buckets.scripts.bucketName, SCRIPT_PREFIXES.lineage));
    const iceberg = props.tableFormat === 'iceberg';
    const jars = [...props.artifacts.jarUris, ...(iceberg ? EMR_ICEBERG_JARS : [])];
    this.application = new emr.CfnApplication(this, 'Application', {
      name: `${props.prefix}-spark`,
      releaseLabel: props.releaseLabel ?? 'emr-7.9.0',
      type: 'SPARK',
      architecture: 'ARM64',
      maximumCapacity: { cpu: `${props.maxVcpu ?? 16} vCPU`, memory: `${props.maxMemoryGb ?? 64} GB` },
      autoStartConfiguration: { enabled: true },
      autoStopConfiguration: { enabled: true, idleTimeoutMinutes: 15 },
      networkConfiguration: {
        subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
        securityGroupIds: [securityGroup.securityGroupId],
      },
      // Defaults of every job run (a run's sparkSubmitParameters may add to them).
      runtimeConfiguration: [
        {
          classification: 'spark-defaults',
          properties: { 'spark.jars': jars.join(','), ...lineage, ...(iceberg && ICEBERG_SPARK_CONF) },
        },
      ],
    });
  }
}
