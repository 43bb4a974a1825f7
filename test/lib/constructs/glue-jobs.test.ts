import { Template } from 'aws-cdk-lib/assertions';
import { environmentConfig } from '../../../lib/config/environments';
import {
  ICEBERG_SPARK_CONF,
  lineageSparkConf,
  SCRIPT_PREFIXES,
  sparkJobScripts,
} from '../../../lib/config/spark-jobs';
import { GlueJobs } from '../../../lib/constructs/glue-jobs';
import { SparkArtifacts } from '../../../lib/constructs/spark-artifacts';
import { s3ActionsOn, sparkStack } from './spark-stack';

function synth(tableFormat: 'delta' | 'iceberg' = 'delta') {
  const { stack, access } = sparkStack();
  const artifacts = new SparkArtifacts(stack, 'Artifacts', { bucket: access.buckets.scripts });
  const jobs = new GlueJobs(stack, 'GlueJobs', {
    ...access,
    prefix: 'lakehouse-test',
    artifacts,
    objectives: { ...environmentConfig('dev'), tableFormat },
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

/** The Glue actions a role's policies grant on the tables of the lakehouse database. */
function glueTableActions(template: Template): string[] {
  const actions = new Set<string>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      if (JSON.stringify(statement.Resource).includes(':table/lakehouse_test/*')) {
        for (const action of [statement.Action].flat()) actions.add(action);
      }
    }
  }
  return [...actions].sort();
}

describe('GlueJobs of an Iceberg environment', () => {
  const delta = synth('delta');
  const iceberg = synth('iceberg');
  const jobArgs = (template: Template) =>
    Object.values(template.findResources('AWS::Glue::Job')).map((j) => j.Properties.DefaultArguments);

  test('the jobs load Delta (their state tables) and Iceberg, and the Glue catalog glue_catalog', () => {
    for (const args of jobArgs(iceberg.template)) {
      expect(args['--datalake-formats']).toBe('delta,iceberg');
      const conf = JSON.stringify(args['--conf']);
      for (const [key, value] of Object.entries(ICEBERG_SPARK_CONF)) {
        expect(conf).toContain(` --conf ${key}=${value}`);
      }
      // Still one --conf value: lineage first, Iceberg chained after it.
      expect(conf).toContain('spark.extraListeners=io.openlineage.spark.agent.OpenLineageSparkListener');
    }
  });

  test('every run gets --table_format iceberg and the Glue database of its tables', () => {
    expect(iceberg.jobs.jobArguments).toMatchObject({
      '--table_format': 'iceberg',
      '--catalog_database': 'lakehouse_dev',
    });
    for (const args of jobArgs(iceberg.template)) expect(args['--table_format']).toBe('iceberg');
  });

  test('the role may create, update and (for the migration) delete tables of the database, nothing beyond it', () => {
    expect(glueTableActions(iceberg.template)).toEqual(
      [...glueTableActions(delta.template), 'glue:DeleteTable'].sort(),
    );
    expect(glueTableActions(iceberg.template)).toEqual(
      expect.arrayContaining(['glue:CreateTable', 'glue:GetTable', 'glue:UpdateTable']),
    );
  });

  test('a Delta environment has none of it', () => {
    for (const args of jobArgs(delta.template)) {
      expect(args['--datalake-formats']).toBe('delta');
      expect(args['--table_format']).toBeUndefined();
      expect(JSON.stringify(args['--conf'])).not.toContain('iceberg');
    }
    expect(glueTableActions(delta.template)).not.toContain('glue:DeleteTable');
  });
});
