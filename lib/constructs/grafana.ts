import {
  aws_athena as athena,
  aws_grafana as grafana,
  aws_iam as iam,
  type aws_kms as kms,
  type aws_logs as logs,
  type RemovalPolicy,
  Stack,
  type aws_s3 as s3,
  type aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type OverviewPanel, panelLink } from '../dashboards/overview';
import { allowWildcards } from '../nag';
import { GrafanaProvisioning } from './grafana-provisioning';

export interface GrafanaProps {
  /** Workspace, work group and provisioner are named `<prefix>-grafana…`. */
  readonly prefix: string;
  /** Retention of the provisioner's logs. */
  readonly logRetentionDays: number;
  /** The zones Grafana may read through Athena: curated and gold, never raw or quarantine payloads. */
  readonly queryBuckets: readonly s3.IBucket[];
  /** Where Athena writes query results for Grafana (under ATHENA_RESULTS_PREFIX). */
  readonly resultsBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  readonly glueDatabase: string;
  /** Glue tables Grafana may not read (e.g. `raw_*`, `quarantine_*`). */
  readonly hiddenTablePatterns: readonly string[];
  /** The log groups the dashboards show (Logs Insights is limited to them). */
  readonly logGroups: readonly logs.ILogGroup[];
  /** Function names the dashboards' variables default to. */
  readonly ingestFunctionName: string;
  readonly sinkFunctionName: string;
  readonly notifications: sns.ITopic;
  readonly removalPolicy: RemovalPolicy;
}

export const ATHENA_RESULTS_PREFIX = 'athena-results/grafana';

/**
 * Amazon Managed Grafana for the platform: the workspace and its role (CloudWatch metrics, the platform's
 * log groups, Athena over the curated and gold zones only), and a custom resource that provisions the
 * CloudWatch and Athena data sources and the dashboards of lib/dashboards/ at every deploy through the
 * Grafana HTTP API (lambdas/grafana-provisioner/, a short-lived service-account token per run).
 */
export class GrafanaWorkspace extends Construct {
  readonly workspace: grafana.CfnWorkspace;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { partition, region, account } = stack;
    const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('grafana.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: 'Managed Grafana reads CloudWatch, the platform logs and the curated and gold zones',
    });
    this.role = role;
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(
      [
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricData',
        'cloudwatch:ListMetrics',
        'cloudwatch:GetInsightRuleReport',
        'logs:DescribeLogGroups',
        'logs:GetQueryResults',
        'logs:StopQuery',
        'tag:GetResources',
        'athena:ListWorkGroups',
        'athena:ListDataCatalogs',
        'athena:ListDatabases',
        'athena:ListTableMetadata',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      ['*'],
    );
    allow(
      ['logs:StartQuery', 'logs:GetLogEvents', 'logs:GetLogGroupFields', 'logs:FilterLogEvents'],
      props.logGroups.map((g) => g.logGroupArn),
    );
    allow(
      ['s3:GetObject'],
      props.queryBuckets.map((b) => b.arnForObjects('*')),
    );
    allow(
      ['s3:ListBucket', 's3:GetBucketLocation'],
      [...props.queryBuckets, props.resultsBucket].map((b) => b.bucketArn),
    );
    allow(
      ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      [props.resultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}/*`)],
    );
    // The lake key encrypts every zone; S3's encryption context (the bucket, with bucket keys) limits its use
    // to the buckets Grafana reads and the results bucket.
    allow(['kms:Decrypt', 'kms:GenerateDataKey'], [props.lakeKey.keyArn], {
      StringLike: {
        'kms:ViaService': `s3.${region}.amazonaws.com`,
        'kms:EncryptionContext:aws:s3:arn': [...props.queryBuckets, props.resultsBucket].map(
          (b) => b.bucketArn,
        ),
      },
    });
    props.notifications.grantPublish(role);
    allow(
      ['glue:GetDatabase', 'glue:GetDatabases', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      [
        glueArn('catalog'),
        glueArn(`database/${props.glueDatabase}`),
        glueArn(`table/${props.glueDatabase}/*`),
      ],
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
        resources: props.hiddenTablePatterns.map((p) => glueArn(`table/${props.glueDatabase}/${p}`)),
      }),
    );
    allowWildcards(role, [
      {
        finding: /^Resource::[^/]*Lake(curated|gold)[^/]*\/\*$/,
        reason: 'Athena dashboards read (only read) the objects of the curated and gold zones.',
      },
      {
        finding: new RegExp(`^Resource::.*/${ATHENA_RESULTS_PREFIX}/\\*$`),
        reason: 'Athena writes Grafana query results under one prefix.',
      },
      {
        finding: new RegExp(`^Resource::arn:[^:]+:glue:[^:]+:[^:]+:table/${props.glueDatabase}/\\*$`),
        reason: 'Tables of the lakehouse database only (raw and quarantine tables are denied explicitly).',
      },
      {
        finding: /^Action::kms:GenerateDataKey\*$/,
        reason:
          'Publishing to the KMS-encrypted alarm topic (Grafana notifications) needs data keys of its key only.',
      },
      {
        finding: /^Resource::\*$/,
        reason:
          'CloudWatch metric/alarm reads, Logs Insights query results and Athena list/query actions have no resource-level permissions (AWS documented Grafana data-source policies).',
      },
    ]);

    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `${props.prefix}-grafana`,
      description: 'Queries of the Grafana Athena data source',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: props.resultsBucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.lakeKey.keyArn },
        },
      },
      tags: [{ key: 'GrafanaDataSource', value: 'true' }],
    });
    this.workspace = new grafana.CfnWorkspace(this, 'Workspace', {
      name: `${props.prefix}-grafana`,
      description: 'Lakehouse dashboards (lib/dashboards/ in the repository)',
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders: ['AWS_SSO'],
      permissionType: 'SERVICE_MANAGED',
      // Service accounts (the provisioner's tokens) need Grafana 9 or later.
      grafanaVersion: '10.4',
      roleArn: role.roleArn,
      dataSources: ['CLOUDWATCH', 'ATHENA'],
      notificationDestinations: ['SNS'],
    });
    this.workspace.addResourceDependency(workGroup);

    new GrafanaProvisioning(this, 'Provisioning', {
      workspace: this.workspace,
      prefix: props.prefix,
      glueDatabase: props.glueDatabase,
      athenaWorkGroup: workGroup.name,
      ingestFunctionName: props.ingestFunctionName,
      sinkFunctionName: props.sinkFunctionName,
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
  }

  /** The URL that opens one panel of the overview dashboard. */
  panelUrl(panel: OverviewPanel): string {
    return `https://${this.workspace.attrEndpoint}${panelLink(panel)}`;
  }
}
