/**
 * The whole CDK app of an environment with `tableFormat: 'iceberg'` (dev with the table optimizers on):
 * cdk-nag clean, cfn-lint clean, Iceberg jobs, no Delta declarations of the tables the jobs create, and
 * the Glue Data Catalog's table optimizers. Delta environments are app.test.ts's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildLakehouse, newApp } from '../../lib/app';
import { type DeployableConfig, environmentConfig } from '../../lib/config/environments';
import { ICEBERG_SPARK_CONF } from '../../lib/config/spark-jobs';
import { DATASETS } from '../../schemas';
import { cfnLint } from '../../scripts/report';

const dev = environmentConfig('dev');
const config: DeployableConfig = {
  ...dev,
  tableFormat: 'iceberg',
  lake: { ...dev.lake, icebergTableOptimizers: true },
};
let templates: Record<string, Template>;
let lintErrors: string[];
let violations: unknown[];

beforeAll(() => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-iceberg-'));
  const app = newApp({}, outdir);
  buildLakehouse(app, { env: 'dev', config });
  // Throws on any cdk-nag finding that is not acknowledged.
  const assembly = app.synth();
  templates = Object.fromEntries(assembly.stacks.map((s) => [s.id, Template.fromJSON(s.template)]));
  lintErrors = cfnLint(assembly, config.region)
    .filter((p) => p.Level === 'Error')
    .map((p) => `${p.Rule.Id} ${p.Message}`);
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  violations = report.pluginReports.flatMap((r: { violations: unknown[] }) => r.violations);
  fs.rmSync(outdir, { recursive: true, force: true });
}, 600_000);

const t = (stack: string) => templates[stack] as Template;

test('synthesizes with no unacknowledged cdk-nag finding and no cfn-lint error', () => {
  expect(violations).toEqual([]);
  expect(lintErrors).toEqual([]);
});

test('every Glue job runs Iceberg through the Glue catalog of the environment’s database', () => {
  const jobs = Object.values(t('Processing').findResources('AWS::Glue::Job'));
  expect(jobs.length).toBeGreaterThan(0);
  for (const job of jobs) {
    const args = job.Properties.DefaultArguments;
    expect(args).toMatchObject({
      '--datalake-formats': 'delta,iceberg',
      '--table_format': 'iceberg',
      '--catalog_database': 'lakehouse_dev',
      '--glue_database': 'lakehouse_dev',
    });
    for (const key of Object.keys(ICEBERG_SPARK_CONF)) expect(JSON.stringify(args['--conf'])).toContain(key);
  }
  const [emr] = Object.values(t('Processing').findResources('AWS::EMRServerless::Application'));
  expect(emr?.Properties.RuntimeConfiguration[0].Properties).toMatchObject(ICEBERG_SPARK_CONF);
});

test('the catalog declares no curated tables (the curated job creates them as Iceberg tables)', () => {
  const names = Object.values(t('Data').findResources('AWS::Glue::Table')).map(
    (x) => x.Properties.TableInput.Name,
  );
  expect(
    names.filter((n: string) => n.startsWith('curated_') || n.startsWith('quarantine_curated_')),
  ).toEqual([]);
  for (const def of DATASETS) expect(names).toContain(`raw_${def.name}`);
});

test('compaction, retention and orphan-file deletion on every curated and curated-quarantine table', () => {
  const optimizers = Object.values(t('Data').findResources('AWS::Glue::TableOptimizer'));
  const declared = optimizers.map((o) => `${o.Properties.TableName} ${o.Properties.Type}`).sort();
  const expected = DATASETS.flatMap((d) =>
    [`curated_${d.name}`, `quarantine_curated_${d.name}`].flatMap((table) =>
      ['compaction', 'retention', 'orphan_file_deletion'].map((type) => `${table} ${type}`),
    ),
  ).sort();
  expect(declared).toEqual(expected);
  for (const o of optimizers) expect(o.Properties.DatabaseName).toBe('lakehouse_dev');
});
