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
    const { prefix, settings, streaming } = props;
    this.handler = this.createHandler(props);
    streaming.grantProduce(
      this.handler,
      streaming.topics.map((t) => t.name),
    );
    this.api = this.createApi(props);
    const recordRoutes = this.addRoutes(props.datasets);
    this.addProducers(prefix, settings);
    this.firewall = this.addFirewall(props, recordRoutes);
  }

  /** The function, in the VPC as a Kafka client, told its cluster (or brokers) and body limits. */
  private createHandler(props: IngestionApiProps): NodejsFunction {
    const { settings, streaming } = props;
    return lakehouseFunction(this, 'Handler', {
      functionName: `${props.prefix}-${METRIC_SERVICES.ingest}`,
      entry: 'lambdas/ingest/handler.ts',
      memoryMb: settings.memoryMb,
      timeoutSeconds: settings.timeoutSeconds,
      vpc: props.vpc,
      subnets: props.subnets,
      securityGroups: [streaming.clientSecurityGroup],
      logRetentionDays: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
      environment: {
        ...(streaming.connection.kind === 'msk'
          ? { [ENV.mskClusterArn]: streaming.connection.clusterArn }
          : { [ENV.kafkaBrokers]: streaming.connection.bootstrapServers }),
        [ENV.maxBodyBytes]: String(settings.maxBodyBytes),
        [ENV.maxBatchRecords]: String(settings.maxBatchRecords),
        ...powertoolsEnvironment(METRIC_SERVICES.ingest),
      },
    });
  }

  /** The REST API and its stage: access logs, X-Ray, throttling (public routes apart), a 404 for unknown routes. */
  private createApi(props: IngestionApiProps): apigw.RestApi {
    const { settings } = props;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    const api = new apigw.RestApi(this, 'Api', {
      restApiName: `${props.prefix}-ingest`,
      description: 'Lakehouse ingestion API (README.md#the-api)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: props.removalPolicy,
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: settings.throttleRatePerSecond,
        throttlingBurstLimit: settings.throttleBurst,
        methodOptions: publicRouteThrottling(settings),
      },
    });
    api.addGatewayResponse('UnknownRoute', {
      // API Gateway answers unknown paths and methods as a missing IAM token (403); the API says 404.
      type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: { 'application/json': '{"detail": "Not Found"}' },
    });
    return api;
  }

  /** The public GET routes and, behind API keys, each dataset's record and batch POSTs; returns the latter. */
  private addRoutes(datasets: readonly DatasetDefinition[]): string[] {
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
    const recordRoutes = datasets.flatMap((d) => [d.route, batchRouteOf(d)]);
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
    return recordRoutes;
  }

  /** One key and usage plan per configured producer: limits and revocation per producer. */
  private addProducers(prefix: string, settings: IngestSettings): void {
    for (const producer of settings.producers) {
      const plan = this.api.addUsagePlan(`Plan-${producer.name}`, {
        name: `${prefix}-${producer.name}`,
        description: `Producer ${producer.name}`,
        throttle: {
          rateLimit: producer.throttleRatePerSecond ?? settings.throttleRatePerSecond,
          burstLimit: producer.throttleBurst ?? settings.throttleBurst,
        },
        quota: { limit: producer.quotaPerDay ?? settings.quotaPerDay, period: apigw.Period.DAY },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      const key = this.api.addApiKey(`Key-${producer.name}`, {
        apiKeyName: `${prefix}-${producer.name}`,
      });
      plan.addApiKey(key);
      this.apiKeys[producer.name] = key;
    }
  }

  /** The WAF in front of the stage where configured (ingest.waf); elsewhere its absence acknowledged. */
  private addFirewall(props: IngestionApiProps, recordRoutes: string[]): ApiFirewall | undefined {
    const { settings } = props;
    if (!settings.waf) {
      acknowledge(
        this.api.deploymentStage,
        'AwsSolutions-APIG3',
        `WAF is off in ${props.environmentName} by configuration (ingest.waf); staging and prod run it.`,
      );
      return undefined;
    }
    return new ApiFirewall(this, 'Firewall', {
      name: `${props.prefix}-ingest`,
      stageArn: this.api.deploymentStage.stageArn,
      maxBodyBytes: settings.maxBodyBytes,
      rateLimitPer5Min: settings.wafRateLimitPer5Min,
      recordRoutes,
    });
  }
}

/** The standard fields plus the API key id: which producer sent what (schema drift, abuse). */
function accessLogFormat(): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(
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
  );
}

/**
 * The public GET routes' own, lower limits: nobody can push producers into 429 through them. Keys are
 * `<route>/GET` ('//GET' for the root).
 */
function publicRouteThrottling(settings: IngestSettings): Record<string, apigw.MethodDeploymentOptions> {
  return Object.fromEntries(
    PUBLIC_ROUTES.map((route) => [
      `${route}/GET`,
      {
        throttlingRateLimit: settings.readThrottleRatePerSecond,
        throttlingBurstLimit: settings.readThrottleBurst,
      },
    ]),
  );
}
