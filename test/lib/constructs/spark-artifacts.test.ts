import { Template } from 'aws-cdk-lib/assertions';
import { SparkArtifacts } from '../../../lib/constructs/spark-artifacts';
import { sparkStack } from './spark-stack';

describe('SparkArtifacts', () => {
  const { stack, access } = sparkStack();
  const artifacts = new SparkArtifacts(stack, 'Artifacts', { bucket: access.buckets.scripts });
  const template = Template.fromStack(stack);

  test('uploads scripts, the library zip, schemas and jars under spark/ of the scripts bucket', () => {
    const prefixes = Object.values(template.findResources('Custom::CDKBucketDeployment'))
      .map((d) => d.Properties.DestinationBucketKeyPrefix)
      .sort();
    expect(prefixes).toEqual(['spark/jars/', 'spark/jobs/', 'spark/lib/', 'spark/schemas/']);
    const library = Object.values(template.findResources('Custom::CDKBucketDeployment')).find(
      (d) => d.Properties.DestinationBucketKeyPrefix === 'spark/lib/',
    );
    expect(library?.Properties.Extract).toBe(false);
  });

  test('exposes the URIs the runtimes load', () => {
    const uris = [
      artifacts.libraryUri,
      artifacts.schemaUri,
      artifacts.scriptUri('raw_to_curated'),
      ...artifacts.jarUris,
    ];
    for (const uri of uris) expect(uri).toMatch(/^s3:\/\//);
    expect(artifacts.jarUris).toEqual([
      expect.stringMatching(/\/spark\/jars\/openlineage-spark_2\.12-[\d.]+\.jar$/),
    ]);
  });
});
