import {
  aws_apigateway as apigw,
  type aws_ec2 as ec2,
  aws_logs as logs,
  type RemovalPolicy,
} from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/ingest/config';
import { METRIC_SERVICES, powertoolsEnvironment } from '../../lambdas/shared/metric-names';
import type { DatasetDefinition } from '../../schemas';
import {
  batchRouteOf,
  DOCS_ROUTE,
  HEALTH_ROUTE,
  OPENAPI_ROUTE,
  REDOC_ROUTE,
} from '../../schemas/api/openapi';
import type { IngestSettings } from '../config/environments';
import { acknowledge } from '../nag';
import { lakehouseFunction } from './lambda-function';
import type { Streaming } from './streaming';
import { ApiFirewall } from './waf';

export interface IngestionApiProps {
  /** Names `<prefix>-ingest` (function, API, firewall) and `<prefix>-<producer>` (keys, usage plans). */
  readonly prefix: string;
  /** The environment's name, which the acknowledgements of its choices name. */
  readonly environmentName: string;
  /** The function's size and limits, the stage's throttling, the producers and the WAF (an environment's `ingest`). */
  readonly settings: IngestSettings;
  readonly logRetentionDays: number;
  readonly datasets: readonly DatasetDefinition[];
  readonly streaming: Streaming;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly removalPolicy: RemovalPolicy;
}

export const API_STAGE_NAME = 'v1';
const PUBLIC_ROUTES = ['/', HEALTH_ROUTE, OPENAPI_ROUTE, DOCS_ROUTE, REDOC_ROUTE] as const;

/**
 * The HTTP API of README.md#the-api: a REST API with one resource per route of the registry (single-record and
 * batch POSTs behind one API key and usage plan per producer; GET /, /health, /openapi.json, /docs, /redoc open and
 * throttled apart), stage throttling,
 * JSON access logs, X-Ray, a 404 for unknown routes, WAF where configured; the ingest Lambda behind it.
 */
export class IngestionApi extends Construct {
  readonly api: apigw.RestApi;
  readonly handler: NodejsFunction;
  readonly firewall?: ApiFirewall;
  /** API key of each producer of the configuration, by producer name. */
  readonly apiKeys: Record<string, apigw.IApiKey> = {};

  constructor(scope: Construct, id: string, props: IngestionApiProps) {
    super(scope, id);
    const { prefix, settings: ingest, streaming } = props;
    this.handler = lakehouseFunction(this, 'Handler', {
      functionName: `${prefix}-${METRIC_SERVICES.ingest}`,
      entry: 'lambdas/ingest/handler.ts',
      memoryMb: ingest.memoryMb,
      timeoutSeconds: ingest.timeoutSeconds,
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [streaming.clientSecurityGroup],
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
      environment: {
        ...(streaming.connection.kind === 'msk'
          ? { [ENV.mskClusterArn]: streaming.connection.clusterArn }
          : { [ENV.kafkaBrokers]: streaming.connection.bootstrapServers }),
        [ENV.maxBodyBytes]: String(ingest.maxBodyBytes),
        [ENV.maxBatchRecords]: String(ingest.maxBatchRecords),
        ...powertoolsEnvironment(METRIC_SERVICES.ingest),
      },
    });
    streaming.grantProduce(
      this.handler,
      streaming.topics.map((t) => t.name),
    );

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${prefix}-ingest`,
      description: 'Lakehouse ingestion API (README.md#the-api)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: props.removalPolicy,
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        // The standard fields plus the API key id: which producer sent what (schema drift, abuse).
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            ip: apigw.AccessLogField.contextIdentitySourceIp(),
            apiKeyId: apigw.AccessLogField.contextIdentityApiKeyId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            httpMethod: apigw.AccessLogField.contextHttpMethod(),
            resourcePath: apigw.AccessLogField.contextResourcePath(),
            status: apigw.AccessLogField.contextStatus(),
            protocol: apigw.AccessLogField.contextProtocol(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
          }),
        ),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: ingest.throttleRatePerSecond,
        throttlingBurstLimit: ingest.throttleBurst,
        // The public GET routes have their own, lower limits: nobody can push producers into 429 through them.
        // Keys are `<route>/GET` ('//GET' for the root).
        methodOptions: Object.fromEntries(
          PUBLIC_ROUTES.map((route) => [
            `${route}/GET`,
            {
              throttlingRateLimit: ingest.readThrottleRatePerSecond,
              throttlingBurstLimit: ingest.readThrottleBurst,
            },
          ]),
        ),
      },
    });
    this.api.addGatewayResponse('UnknownRoute', {
      // API Gateway answers unknown paths and methods as a missing IAM token (403); the API says 404.
      type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: { 'application/json': '{"detail": "Not Found"}' },
    });

    const integration = new apigw.LambdaIntegration(this.handler, { proxy: true });
    const noAuthorizer = (method: apigw.Method, why: string) => {
      acknowledge(method, 'AwsSolutions-APIG4', why);
      acknowledge(method, 'AwsSolutions-COG4', why);
    };
    for (const route of PUBLIC_ROUTES) {
      noAuthorizer(
        this.api.root.resourceForPath(route).addMethod('GET', integration),
        'Public, read-only information route of README.md#the-api (welcome, health, OpenAPI document, its Swagger UI and ReDoc pages); throttled apart from the record routes.',
      );
    }
    const recordRoutes = props.datasets.flatMap((d) => [d.route, batchRouteOf(d)]);
    for (const route of recordRoutes) {
      noAuthorizer(
        this.api.root.resourceForPath(route).addMethod('POST', integration, { apiKeyRequired: true }),
        'Producers authenticate with API keys bound to a usage plan (README.md#the-api: API keys with usage plans, or IAM).',
      );
    }
    acknowledge(
      this.api,
      'AwsSolutions-APIG2',
      'The ingest Lambda validates bodies against the dataset registry to return the 422 detail list of README.md#the-api; API Gateway models would answer 400 without it.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level API Gateway logging role; this AWS managed policy is the documented one and grants only log delivery.',
    );

    // One key and usage plan per configured producer: limits and revocation per producer.
    for (const producer of ingest.producers) {
      const plan = this.api.addUsagePlan(`Plan-${producer.name}`, {
        name: `${prefix}-${producer.name}`,
        description: `Producer ${producer.name}`,
        throttle: {
          rateLimit: producer.throttleRatePerSecond ?? ingest.throttleRatePerSecond,
          burstLimit: producer.throttleBurst ?? ingest.throttleBurst,
        },
        quota: { limit: producer.quotaPerDay ?? ingest.quotaPerDay, period: apigw.Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      const key = this.api.addApiKey(`Key-${producer.name}`, {
        apiKeyName: `${prefix}-${producer.name}`,
      });
      plan.addApiKey(key);
      this.apiKeys[producer.name] = key;
    }

    if (!ingest.waf) {
      acknowledge(
        this.api.deploymentStage,
        'AwsSolutions-APIG3',
        `WAF is off in ${props.environmentName} by configuration (ingest.waf); staging and prod run it.`,
      );
    } else {
      this.firewall = new ApiFirewall(this, 'Firewall', {
        name: `${prefix}-ingest`,
        stageArn: this.api.deploymentStage.stageArn,
        maxBodyBytes: ingest.maxBodyBytes,
        rateLimitPer5Min: ingest.wafRateLimitPer5Min,
        recordRoutes,
      });
    }
  }
}
