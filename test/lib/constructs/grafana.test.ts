import {
  App,
  aws_kms as kms,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { GrafanaWorkspace } from '../../../lib/constructs/grafana';
import { GRAFANA_FOLDER } from '../../../lib/constructs/grafana-provisioning';

describe('GrafanaWorkspace (with GrafanaProvisioning)', () => {
  const stack = new Stack(new App(), 'Grafana', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucket = (id: string) => new s3.Bucket(stack, id);
  const grafana = new GrafanaWorkspace(stack, 'Grafana', {
    prefix: 'lakehouse-test',
    logRetentionDays: 14,
    queryBuckets: [bucket('Curated'), bucket('Gold')],
    resultsBucket: bucket('Results'),
    lakeKey: new kms.Key(stack, 'LakeKey'),
    glueDatabase: 'lakehouse_test',
    hiddenTablePatterns: ['raw_*'],
    logGroups: [new logs.LogGroup(stack, 'Logs')],
    ingestFunctionName: 'ingest',
    sinkFunctionName: 'sink',
    notifications: new sns.Topic(stack, 'Topic'),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const template = Template.fromStack(stack);

  test('a service-managed workspace with CloudWatch and Athena, named after the prefix', () => {
    template.hasResourceProperties('AWS::Grafana::Workspace', {
      Name: 'lakehouse-test-grafana',
      PermissionType: 'SERVICE_MANAGED',
      DataSources: ['CLOUDWATCH', 'ATHENA'],
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'lakehouse-test-grafana' });
    expect(grafana.panelUrl('consumerLag')).toMatch(/viewPanel=/);
  });

  test('the provisioning custom resource carries the data sources and dashboards, in the lakehouse folder', () => {
    const [resource] = Object.values(template.findResources('Custom::GrafanaProvisioning'));
    const spec = JSON.stringify(resource?.Properties.Spec);
    expect(spec).toContain(GRAFANA_FOLDER.uid);
    expect(spec).toContain('grafana-athena-datasource');
    expect(spec).toContain('lakehouse_test');
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'lakehouse-test-grafana-provisioner',
    });
  });
});
