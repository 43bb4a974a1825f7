import { App, aws_kms as kms, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MwaaExecutionRole } from '../../../lib/constructs/mwaa-execution-role';

describe('MwaaExecutionRole', () => {
  const stack = new Stack(new App(), 'Mwaa', { env: { account: '123456789012', region: 'eu-west-1' } });
  new MwaaExecutionRole(stack, 'Role', {
    environmentName: 'lakehouse-test-airflow',
    environmentKey: new kms.Key(stack, 'EnvKey'),
    dagsBucket: new s3.Bucket(stack, 'Dags'),
    scriptsBucket: new s3.Bucket(stack, 'Scripts'),
    lakeKey: new kms.Key(stack, 'LakeKey'),
    glueJobNames: ['lakehouse-test-raw_to_curated'],
    emr: {
      applicationArn: 'arn:aws:emr-serverless:eu-west-1:123456789012:/applications/app-1',
      jobRoleArn: 'arn:aws:iam::123456789012:role/emr-job',
    },
  });
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
  );
  const resourcesOf = (action: string) =>
    statements.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());

  test('runs exactly the given Glue jobs', () => {
    expect(JSON.stringify(resourcesOf('glue:StartJobRun'))).toMatch(
      /:glue:eu-west-1:123456789012:job\/lakehouse-test-raw_to_curated"/,
    );
    expect(resourcesOf('glue:StartJobRun')).toHaveLength(1);
  });

  test('passes only the EMR job role, to EMR Serverless', () => {
    const passRole = statements.find((s) => s.Action === 'iam:PassRole') as unknown as Record<
      string,
      unknown
    >;
    expect(passRole).toMatchObject({
      Resource: 'arn:aws:iam::123456789012:role/emr-job',
      Condition: { StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } },
    });
  });

  test('reads the run summaries under spark/state only, never writes the scripts bucket', () => {
    expect(JSON.stringify(resourcesOf('s3:GetObject'))).toContain('/spark/state/*');
    expect(resourcesOf('s3:PutObject')).toEqual([]);
  });
});
