import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricService, POWERTOOLS_ENV } from './metric-names';

/**
 * The logger and metrics of a handler, created the same way for every function: the service name and
 * namespace come from the Powertools environment CDK sets (powertoolsEnvironment), with the platform's
 * values as defaults where a host (the local platform, a test) sets none.
 *
 * No X-Ray SDK (Powertools' tracer): Lambda's active tracing and API Gateway's already record each
 * invocation's segments, and the logger writes the trace id on every line. The SDK added only a subsegment
 * as long as the invocation (the Kafka client's sockets are not HTTP, so it could not trace the sends) for
 * 117 KB of the ingest bundle's 513 and a third of its cold load (README: bench:bundle).
 */
export function instrumentation(service: MetricService, env: NodeJS.ProcessEnv = process.env) {
  const serviceName = env[POWERTOOLS_ENV.serviceName] ?? service;
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({
      namespace: env[POWERTOOLS_ENV.metricsNamespace] ?? METRICS_NAMESPACE,
      serviceName,
    }),
  };
}
