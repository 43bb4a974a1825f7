import { aws_cloudwatch as cw } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { OperationsDashboard } from '../../../lib/constructs/operations-dashboard';
import { sloIndicators } from '../../../lib/constructs/slo-alarms';
import { observedStack } from './observability-stack';

describe('OperationsDashboard', () => {
  const { stack, api, ingest, sink } = observedStack();
  const failedRuns = new cw.Metric({ namespace: 'Test', metricName: 'FailedRuns' });
  const indicators = sloIndicators(api, sink.functionName, failedRuns);
  const alarm = new cw.Alarm(stack, 'Alarm', { metric: failedRuns, threshold: 1, evaluationPeriods: 1 });
  new OperationsDashboard(stack, 'Ops', {
    prefix: 'lakehouse-test',
    api,
    ingest,
    sink,
    indicators,
    alarms: [alarm],
  });
  const template = Template.fromStack(stack);

  test('one dashboard, <prefix>-overview, with the SLO status row and each indicator', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard?.Properties.DashboardName).toBe('lakehouse-test-overview');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const title of [
      'SLOs',
      'API 5xx ratio (SLO)',
      'Accept to Parquet p99 (ms, SLO)',
      'Sink consumer lag (SLO)',
      'Rejected ratio (SLO)',
      'Spark job failures (SLO)',
      'Lambda ingest',
      'Lambda sink',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
  });
});
