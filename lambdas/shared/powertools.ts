import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, type MetricService, POWERTOOLS_ENV } from './metric-names';

/**
 * The logger, metrics and tracer of a handler, created the same way for every function: the service name
 * and namespace come from the Powertools environment CDK sets (powertoolsEnvironment), with the platform's
 * values as defaults where a host (the local platform, a test) sets none.
 */
export function instrumentation(service: MetricService, env: NodeJS.ProcessEnv = process.env) {
  const serviceName = env[POWERTOOLS_ENV.serviceName] ?? service;
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({
      namespace: env[POWERTOOLS_ENV.metricsNamespace] ?? METRICS_NAMESPACE,
      serviceName,
    }),
    tracer: new Tracer({ serviceName }),
  };
}

/**
 * Runs one invocation's work in a subsegment named `## <name>` (X-Ray, when active tracing gives a
 * segment), annotated with the cold start; errors are recorded on it and rethrown.
 */
export async function inSubsegment<T>(tracer: Tracer, name: string, work: () => Promise<T>): Promise<T> {
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment(`## ${name}`);
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  try {
    return await work();
  } catch (error) {
    tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
  }
}
