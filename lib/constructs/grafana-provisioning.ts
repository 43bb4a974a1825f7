import {
  CustomResource,
  type aws_grafana as grafana,
  aws_iam as iam,
  type RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DataSourceSpec, ProvisioningSpec } from '../../lambdas/grafana-provisioner/core';
import { dashboards } from '../dashboards/overview';
import { lakehouseFunction } from './lambda-function';

export const GRAFANA_FOLDER = { uid: 'lakehouse', title: 'Lakehouse' } as const;

export interface GrafanaProvisioningProps {
  /** The workspace the data sources and dashboards go into. */
  readonly workspace: grafana.CfnWorkspace;
  /** Prefix of the provisioner function's name and of the dashboards' resource names. */
  readonly prefix: string;
  /** The database the Athena data source queries. */
  readonly glueDatabase: string;
  /** The Athena work group the Athena data source runs its queries in. */
  readonly athenaWorkGroup: string;
  /** Function names the dashboards' variables default to. */
  readonly ingestFunctionName: string;
  readonly sinkFunctionName: string;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The CloudWatch and Athena data sources and the dashboards of lib/dashboards/, provisioned into the
 * workspace at every deploy by a custom resource (lambdas/grafana-provisioner/: the Grafana HTTP API with
 * a short-lived service-account token per run; idempotent on update and delete).
 */
export class GrafanaProvisioning extends Construct {
  constructor(scope: Construct, id: string, props: GrafanaProvisioningProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { partition, region, account } = stack;
    const provisioner = lakehouseFunction(this, 'Provisioner', {
      functionName: `${props.prefix}-grafana-provisioner`,
      entry: 'lambdas/grafana-provisioner/handler.ts',
      memoryMb: 256,
      timeoutSeconds: 120,
      environment: {},
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    provisioner.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'grafana:ListWorkspaceServiceAccounts',
          'grafana:CreateWorkspaceServiceAccount',
          'grafana:CreateWorkspaceServiceAccountToken',
          'grafana:DeleteWorkspaceServiceAccountToken',
        ],
        resources: [`arn:${partition}:grafana:${region}:${account}:/workspaces/${props.workspace.attrId}`],
      }),
    );
    const dataSources: DataSourceSpec[] = [
      {
        uid: 'cloudwatch',
        name: 'CloudWatch',
        type: 'cloudwatch',
        jsonData: { authType: 'ec2_iam_role', defaultRegion: region },
      },
      {
        uid: 'athena',
        name: 'Athena (curated, gold)',
        type: 'grafana-athena-datasource',
        jsonData: {
          authType: 'ec2_iam_role',
          defaultRegion: region,
          catalog: 'AwsDataCatalog',
          database: props.glueDatabase,
          workgroup: props.athenaWorkGroup,
        },
      },
    ];
    const spec: ProvisioningSpec = {
      workspaceId: props.workspace.attrId,
      grafanaUrl: `https://${props.workspace.attrEndpoint}`,
      folder: GRAFANA_FOLDER,
      dataSources,
      dashboards: Object.values(
        dashboards({
          prefix: props.prefix,
          ingestFunction: props.ingestFunctionName,
          sinkFunction: props.sinkFunctionName,
        }),
      ),
    };
    const provisioning = new CustomResource(this, 'Provisioning', {
      serviceToken: provisioner.functionArn,
      resourceType: 'Custom::GrafanaProvisioning',
      properties: { Spec: stack.toJsonString(spec) },
    });
    provisioning.node.addDependency(provisioner.role ?? provisioner);
  }
}
