import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DagDeployment } from '../../../lib/constructs/dag-deployment';

describe('DagDeployment', () => {
  const synth = (dagsDir?: string) => {
    const stack = new Stack(new App(), 'Dags');
    const deployment = new DagDeployment(stack, 'Dags', {
      bucket: new s3.Bucket(stack, 'Bucket'),
      config: { datasets: ['d'] },
      dagsDir,
    });
    return { deployment, template: Template.fromStack(stack) };
  };

  test("the project's DAGs under dags/ and their requirements at the root, never pruned", () => {
    const { deployment, template } = synth();
    expect(deployment.requirementsPath).toBe('requirements.txt');
    const prefixes = Object.values(template.findResources('Custom::CDKBucketDeployment')).map((d) => [
      d.Properties.DestinationBucketKeyPrefix,
      d.Properties.Prune,
    ]);
    expect(prefixes).toEqual(
      expect.arrayContaining([
        ['dags/', true],
        [undefined, false],
      ]),
    );
  });

  test('no requirements upload when the folder has none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dags-'));
    fs.writeFileSync(path.join(dir, 'pipeline.py'), '');
    const { deployment, template } = synth(dir);
    expect(deployment.requirementsPath).toBeUndefined();
    template.resourceCountIs('Custom::CDKBucketDeployment', 1);
    fs.rmSync(dir, { recursive: true });
  });
});
