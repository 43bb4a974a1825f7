import { App, aws_ec2 as ec2, aws_kms as kms, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import type { SparkDataAccess } from '../../../lib/constructs/spark-data-access';

/** A bare stack with the lake buckets, key and VPC the Spark constructs are given. */
export function sparkStack() {
  const stack = new Stack(new App(), 'Spark', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucket = (zone: string) => new s3.Bucket(stack, `Lake${zone}`);
  const access: SparkDataAccess = {
    buckets: {
      raw: bucket('raw'),
      curated: bucket('curated'),
      gold: bucket('gold'),
      quarantine: bucket('quarantine'),
      scripts: bucket('scripts'),
    },
    lakeKey: new kms.Key(stack, 'LakeKey'),
    glueDatabase: 'lakehouse_test',
  };
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  return { stack, access, vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } };
}

/** The S3 actions a role's policies grant on resources whose ARN ends with `suffix`. */
export function s3ActionsOn(policies: Record<string, Record<string, unknown>>, suffix: string): string[] {
  const actions = new Set<string>();
  for (const policy of Object.values(policies)) {
    const document = (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument;
    for (const statement of document.Statement) {
      const resources = [statement.Resource].flat();
      if (resources.some((r) => JSON.stringify(r).endsWith(`${JSON.stringify(suffix).slice(1, -1)}"]]}`))) {
        for (const action of [statement.Action].flat()) actions.add(action);
      }
    }
  }
  return [...actions].sort();
}

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}
