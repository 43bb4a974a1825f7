import { aws_cloudwatch as cw, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { environmentConfig } from '../../../lib/config/environments';
import {
  ALARM_GUIDE,
  runbookPath,
  SLOS,
  SloAlarms,
  type SloId,
  sloIndicators,
} from '../../../lib/constructs/slo-alarms';
import { observedStack } from './observability-stack';

describe('SloAlarms', () => {
  const { stack, api, sink } = observedStack();
  const topic = new sns.Topic(stack, 'Topic');
  const failedRuns = new cw.Metric({ namespace: 'Test', metricName: 'FailedRuns' });
  const objectives = environmentConfig('dev').alarms;
  new SloAlarms(stack, 'Slo', {
    prefix: 'lakehouse-test',
    objectives,
    indicators: sloIndicators(api, sink.functionName, failedRuns),
    topic,
    panelUrl: (panel) => `https://grafana.example/${panel}`,
  });
  const template = Template.fromStack(stack);

  test('one alarm per SLO, named <prefix>-slo-<id>, publishing alarm and recovery to the topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual(
      Object.keys(SLOS)
        .map((slo) => `lakehouse-test-slo-${slo}`)
        .sort(),
    );
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Topic/) }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Topic/) }]);
    }
  });

  test('each description carries the objective, first steps, the panel link and the runbook', () => {
    for (const slo of Object.keys(SLOS) as SloId[]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `lakehouse-test-slo-${slo}`,
        AlarmDescription: [
          `${SLOS[slo]}.`,
          `First steps: ${ALARM_GUIDE[slo].firstSteps}`,
          `Dashboard: https://grafana.example/${ALARM_GUIDE[slo].panel}`,
          `Runbook: ${runbookPath(slo)}`,
        ].join('\n'),
      });
    }
  });

  test('thresholds are the environment objectives', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'lakehouse-test-slo-ingest-latency',
      Threshold: objectives.ingestLatencyP99Ms,
      EvaluationPeriods: 3,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'lakehouse-test-slo-consumer-lag',
      Threshold: objectives.consumerLagMessages,
    });
  });
});
