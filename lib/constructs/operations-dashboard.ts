import { type aws_apigateway as apigw, aws_cloudwatch as cw, Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { SloIndicators } from './slo-alarms';

export interface OperationsDashboardProps {
  /** The dashboard is named `<prefix>-overview`. */
  readonly prefix: string;
  readonly api: apigw.RestApi;
  readonly ingest: IFunction;
  readonly sink: IFunction;
  readonly indicators: SloIndicators;
  /** Shown as one status row on top. */
  readonly alarms: readonly cw.IAlarm[];
  /** @default 3 hours */
  readonly defaultInterval?: Duration;
}

/** The CloudWatch dashboard's name. */
export const operationsDashboardName = (prefix: string) => `${prefix}-overview`;

/** The CloudWatch operations dashboard: SLO status, then API, sink, Lambdas and Spark, each beside its SLO. */
export class OperationsDashboard extends Construct {
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { api, indicators: i } = props;
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: operationsDashboardName(props.prefix),
      defaultInterval: props.defaultInterval ?? Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cw.AlarmStatusWidget({ title: 'SLOs', alarms: [...props.alarms], width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'API requests and errors',
        left: [api.metricCount(), api.metricClientError(), api.metricServerError()],
        right: [api.metricLatency({ statistic: 'p99' })],
      }),
      new cw.GraphWidget({ title: 'API 5xx ratio (SLO)', left: [i.api5xxRatio] }),
      new cw.GraphWidget({ title: 'Accept to Parquet p99 (ms, SLO)', left: [i.latency] }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({ title: 'Sink consumer lag (SLO)', left: [i.lag] }),
      new cw.GraphWidget({
        title: 'Sink records and files',
        left: [i.written, i.quarantined],
        right: [i.filesWritten],
      }),
      new cw.GraphWidget({ title: 'Rejected ratio (SLO)', left: [i.rejectedRatio] }),
    );
    this.dashboard.addWidgets(
      ...[props.ingest, props.sink].map(
        (fn) =>
          new cw.GraphWidget({
            title: `Lambda ${fn === props.ingest ? 'ingest' : 'sink'}`,
            left: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()],
            right: [fn.metricDuration({ statistic: 'p99' })],
          }),
      ),
      new cw.GraphWidget({ title: 'Spark job failures (SLO)', left: [i.failedRuns] }),
    );
  }
}
