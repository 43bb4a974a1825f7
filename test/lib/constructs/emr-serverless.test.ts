import { Template } from 'aws-cdk-lib/assertions';
import { ICEBERG_SPARK_CONF, SCRIPT_PREFIXES } from '../../../lib/config/spark-jobs';
import { EmrServerless } from '../../../lib/constructs/emr-serverless';
import { SparkArtifacts } from '../../../lib/constructs/spark-artifacts';
import { s3ActionsOn, sparkStack } from './spark-stack';

describe('EmrServerless', () => {
  const { stack, access, vpc, subnets } = sparkStack();
  const artifacts = new SparkArtifacts(stack, 'Artifacts', { bucket: access.buckets.scripts });
  new EmrServerless(stack, 'Emr', { ...access, prefix: 'lakehouse-test', artifacts, vpc, subnets });
  const template = Template.fromStack(stack);

  test('an ARM64 Spark application in the VPC with the documented capacity defaults', () => {
    template.hasResourceProperties('AWS::EMRServerless::Application', {
      Name: 'lakehouse-test-spark',
      ReleaseLabel: 'emr-7.9.0',
      Type: 'SPARK',
      Architecture: 'ARM64',
      MaximumCapacity: { Cpu: '16 vCPU', Memory: '64 GB' },
    });
  });

  test('every run loads the OpenLineage listener and records lineage under spark/lineage/ (spark-defaults)', () => {
    const [app] = Object.values(template.findResources('AWS::EMRServerless::Application'));
    if (!app) throw new Error('no application');
    const [defaults] = app.Properties.RuntimeConfiguration;
    expect(defaults.Classification).toBe('spark-defaults');
    const props = defaults.Properties;
    expect(props['spark.extraListeners']).toBe('io.openlineage.spark.agent.OpenLineageSparkListener');
    expect(props['spark.openlineage.transport.type']).toBe('file');
    // Delta environments: no Iceberg catalog.
    expect(JSON.stringify(props)).not.toContain('iceberg');
    expect(JSON.stringify(props['spark.jars'])).toMatch(/spark\/jars\/openlineage-spark_2\.12-[\d.]+\.jar/);
    expect(JSON.stringify(props['spark.lakehouse.lineage.uri'])).toMatch(
      new RegExp(`"s3://",\\{"Ref":"Lakescripts[^"]+"\\},"/${SCRIPT_PREFIXES.lineage}"`),
    );
  });

  test('the job role may put objects under the lineage prefix, and nothing more there', () => {
    expect(s3ActionsOn(template.findResources('AWS::IAM::Policy'), `/${SCRIPT_PREFIXES.lineage}/*`)).toEqual([
      's3:PutObject',
    ]);
  });
});

describe('EmrServerless of an Iceberg environment', () => {
  const { stack, access, vpc, subnets } = sparkStack();
  const artifacts = new SparkArtifacts(stack, 'Artifacts', { bucket: access.buckets.scripts });
  new EmrServerless(stack, 'Emr', {
    ...access,
    prefix: 'lakehouse-test',
    artifacts,
    vpc,
    subnets,
    tableFormat: 'iceberg',
  });
  const template = Template.fromStack(stack);

  test('spark-defaults load the release’s Delta and Iceberg jars and declare the Glue catalog glue_catalog', () => {
    const [app] = Object.values(template.findResources('AWS::EMRServerless::Application'));
    const props = app?.Properties.RuntimeConfiguration[0].Properties;
    expect(props).toMatchObject(ICEBERG_SPARK_CONF);
    const jars = JSON.stringify(props['spark.jars']);
    expect(jars).toContain('/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar');
    expect(jars).toContain('/usr/share/aws/delta/lib/delta-spark.jar');
    expect(jars).toMatch(/spark\/jars\/openlineage-spark_2\.12-[\d.]+\.jar/);
  });
});
