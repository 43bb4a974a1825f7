import { Template } from 'aws-cdk-lib/assertions';
import { environmentConfig } from '../../../lib/config/environments';
import { lineageSparkConf, SCRIPT_PREFIXES, sparkJobScripts } from '../../../lib/config/spark-jobs';
import { GlueJobs } from '../../../lib/constructs/glue-jobs';
import { SparkArtifacts } from '../../../lib/constructs/spark-artifacts';
import { s3ActionsOn, sparkStack } from './spark-stack';

function synth() {
  const { stack, access } = sparkStack();
  const artifacts = new SparkArtifacts(stack, 'Artifacts', { bucket: access.buckets.scripts });
  const jobs = new GlueJobs(stack, 'GlueJobs', {
    ...access,
    prefix: 'lakehouse-test',
    artifacts,
    objectives: environmentConfig('dev'),
    maxConcurrentRuns: 2,
  });
  return { jobs, template: Template.fromStack(stack) };
}

describe('GlueJobs', () => {
  const { jobs, template } = synth();

  test('one Glue 5.0 job per script, named <prefix>-<script>, with the documented defaults', () => {
    expect(Object.keys(jobs.jobs)).toEqual(sparkJobScripts());
    template.resourceCountIs('AWS::Glue::Job', sparkJobScripts().length);
    template.hasResourceProperties('AWS::Glue::Job', {
      Name: 'lakehouse-test-raw_to_curated',
      GlueVersion: '5.0',
      WorkerType: 'G.1X',
      NumberOfWorkers: 2,
      Timeout: 60,
      ExecutionProperty: { MaxConcurrentRuns: 2 },
    });
  });

  test('every job loads the OpenLineage listener and records lineage under spark/lineage/ of the scripts bucket', () => {
    const lineage = lineageSparkConf('LINEAGE_URI');
    const conf = Object.entries(lineage)
      .map(([k, v]) => `${k}=${v}`)
      .join(' --conf ');
    const [before, after] = conf.split('LINEAGE_URI');
    for (const job of Object.values(template.findResources('AWS::Glue::Job'))) {
      const args = job.Properties.DefaultArguments;
      expect(JSON.stringify(args['--extra-jars'])).toMatch(
        /spark\/jars\/openlineage-spark_2\.12-[\d.]+\.jar/,
      );
      expect(args['--conf']).toEqual({
        'Fn::Join': [
          '',
          [
            `${before}s3://`,
            { Ref: expect.stringMatching(/^Lakescripts/) },
            `/${SCRIPT_PREFIXES.lineage}${after}`,
          ],
        ],
      });
      expect(args['--conf']['Fn::Join'][1][0]).toContain(
        'spark.extraListeners=io.openlineage.spark.agent.OpenLineageSparkListener',
      );
    }
  });

  test('the role may put objects under the lineage prefix, and nothing more there', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    expect(s3ActionsOn(policies, `/${SCRIPT_PREFIXES.lineage}/*`)).toEqual(['s3:PutObject']);
  });

  test('the shared job arguments: state under spark/state of the scripts bucket', () => {
    expect(jobs.jobArguments['--state_uri']).toMatch(/^s3:\/\/\$\{Token\[.+\]\}\/spark\/state$/);
    expect(Object.keys(jobs.jobArguments)).toEqual(
      expect.arrayContaining([
        '--raw_uri',
        '--curated_uri',
        '--gold_uri',
        '--quarantine_uri',
        '--schema_uri',
      ]),
    );
  });
});
