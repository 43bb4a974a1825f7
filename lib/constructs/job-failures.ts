import type { aws_cloudwatch as cw } from 'aws-cdk-lib';
import {
  Duration,
  aws_events as events,
  aws_iam as iam,
  aws_logs as logs,
  type RemovalPolicy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SPARK_METRICS } from '../../lambdas/shared/metric-names';

export interface JobFailuresProps {
  /** The Glue jobs whose failed, timed-out or errored runs are recorded. */
  readonly glueJobNames: readonly string[];
  /** The EMR Serverless application whose failed runs are recorded, where there is one. */
  readonly emrApplicationId?: string;
  readonly retentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Glue and EMR Serverless report failed runs as events: a log group keeps them (Grafana shows it) and a
 * metric filter counts them (the batch-jobs SLO).
 */
export class JobFailures extends Construct {
  readonly logGroup: logs.LogGroup;
  /** Failed runs per hour. */
  readonly failedRuns: cw.Metric;

  constructor(scope: Construct, id: string, props: JobFailuresProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.retentionDays,
      removalPolicy: props.removalPolicy,
    });
    new logs.ResourcePolicy(this, 'FromEvents', {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [
            new iam.ServicePrincipal('events.amazonaws.com'),
            new iam.ServicePrincipal('delivery.logs.amazonaws.com'),
          ],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });
    const toLog: events.IRuleTarget = { bind: () => ({ arn: this.logGroup.logGroupArn }) };
    new events.Rule(this, 'GlueJobFailed', {
      description: 'Failed or timed-out Glue job runs of the lakehouse',
      eventPattern: {
        source: ['aws.glue'],
        detailType: ['Glue Job State Change'],
        detail: { jobName: [...props.glueJobNames], state: ['FAILED', 'TIMEOUT', 'ERROR'] },
      },
      targets: [toLog],
    });
    if (props.emrApplicationId) {
      new events.Rule(this, 'EmrJobFailed', {
        description: 'Failed EMR Serverless job runs of the lakehouse',
        eventPattern: {
          source: ['aws.emr-serverless'],
          detailType: ['EMR Serverless Job Run State Change'],
          detail: { applicationId: [props.emrApplicationId], state: ['FAILED'] },
        },
        targets: [toLog],
      });
    }
    this.failedRuns = this.logGroup
      .addMetricFilter('FailedRuns', {
        filterPattern: logs.FilterPattern.allEvents(),
        metricNamespace: METRICS_NAMESPACE,
        metricName: SPARK_METRICS.jobFailures,
        metricValue: '1',
        defaultValue: 0,
      })
      .metric({ statistic: 'Sum', period: Duration.hours(1) });
  }
}
