import * as path from 'node:path';
import {
  Duration,
  type aws_ec2 as ec2,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  type RemovalPolicy,
} from 'aws-cdk-lib';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { allowWildcards, ENI_AND_XRAY } from '../nag';

/** How every handler is bundled (esbuild); `npm run bench:bundle` builds with the same options. */
export const HANDLER_BUNDLING = {
  minify: true,
  sourceMap: false,
  target: 'node24',
  format: OutputFormat.CJS,
  // The Lambda runtime provides the AWS SDK v3.
  externalModules: ['@aws-sdk/*'],
  metafile: false,
} satisfies BundlingOptions;

export const REPO_ROOT = path.resolve(__dirname, '../..');

export interface LakehouseFunctionProps {
  /** e.g. lakehouse-prod-ingest (dashboards/ refers to the functions by name). */
  readonly functionName: string;
  /** Path of the handler module, relative to the repository root (e.g. lambdas/ingest/handler.ts). */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Omitted only for functions that reach nothing inside the VPC (the Grafana provisioner). */
  readonly vpc?: ec2.IVpc;
  readonly subnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly environment: Record<string, string>;
  readonly logRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A handler of lambdas/ bundled by the local esbuild (no Docker): Node.js 24 on arm64, minified, the AWS
 * SDK v3 taken from the runtime; in the VPC (when given); active tracing; its own log group with retention; its own role
 * with only its log group and the VPC network-interface actions (callers add what the handler needs).
 */
export function lakehouseFunction(
  scope: Construct,
  id: string,
  props: LakehouseFunctionProps,
): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.logRetentionDays,
    removalPolicy: props.removalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${props.entry}`,
  });
  logGroup.grantWrite(role);
  if (props.vpc) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
  }
  allowWildcards(role, [
    ENI_AND_XRAY,
    {
      finding: /^Resource::.*LogGroup.*\.Arn>?$|log-group:.*:\*$/,
      reason: "Log streams of the function's own log group.",
    },
  ]);
  const fn = new NodejsFunction(scope, id, {
    role,
    functionName: props.functionName,
    entry: path.join(REPO_ROOT, props.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memoryMb,
    timeout: Duration.seconds(props.timeoutSeconds),
    vpc: props.vpc,
    vpcSubnets: props.subnets,
    securityGroups: props.securityGroups,
    tracing: lambda.Tracing.ACTIVE,
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup,
    environment: props.environment,
    bundling: HANDLER_BUNDLING,
  });
  return fn;
}
