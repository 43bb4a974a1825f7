import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { METRICS_NAMESPACE, SPARK_METRICS } from '../../../lambdas/shared/metric-names';
import { JobFailures } from '../../../lib/constructs/job-failures';

describe('JobFailures', () => {
  const stack = new Stack(new App(), 'Jobs');
  new JobFailures(stack, 'Failures', {
    glueJobNames: ['lakehouse-test-raw_to_curated'],
    emrApplicationId: 'app-1',
    retentionDays: 14,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const template = Template.fromStack(stack);

  test('failed Glue and EMR Serverless runs of these jobs only are kept in a log group', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.glue'],
        detail: { jobName: ['lakehouse-test-raw_to_curated'], state: ['FAILED', 'TIMEOUT', 'ERROR'] },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.emr-serverless'],
        detail: { applicationId: ['app-1'], state: ['FAILED'] },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  test('every kept event counts as one failed run', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [
        {
          MetricNamespace: METRICS_NAMESPACE,
          MetricName: SPARK_METRICS.jobFailures,
          MetricValue: '1',
          DefaultValue: 0,
        },
      ],
    });
  });
});
