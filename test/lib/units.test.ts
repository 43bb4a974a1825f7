import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import fc from 'fast-check';
import { newApp } from '../../lib/app';
import { DEPLOYABLE_ENVS, environmentConfig } from '../../lib/config/environments';
import { integerGreaterThanPattern } from '../../lib/constructs/waf';
import { availabilityZoneNames, dataRemovalPolicy } from '../../lib/stacks/lakehouse-stack';
import { DataStack } from '../../lib/stacks/stacks';
import { DATASETS, rawColumns } from '../../schemas';
import { GLUE_RAW_PARTITION_KEYS, glueRawColumns } from '../../schemas/glue';

describe('WAF body-size pattern', () => {
  it('matches exactly the integers above the limit', () => {
    fc.assert(
      fc.property(fc.nat(50_000_000), fc.nat(200_000_000), (limit, value) => {
        expect(new RegExp(integerGreaterThanPattern(limit)).test(String(value))).toBe(value > limit);
      }),
      { numRuns: 2_000 },
    );
  });

  it('fits WAF regex limits for the configured body sizes', () => {
    for (const env of DEPLOYABLE_ENVS) {
      expect(integerGreaterThanPattern(environmentConfig(env).ingest.maxBodyBytes).length).toBeLessThan(512);
    }
  });
});

describe('Glue columns', () => {
  it('map every raw column to its Glue type, in order', () => {
    const expected = {
      string: 'string',
      double: 'double',
      timestamp: 'timestamp',
      int32: 'int',
      int64: 'bigint',
    };
    for (const def of DATASETS) {
      expect(glueRawColumns(def)).toEqual(
        rawColumns(def).map((c) => ({ name: c.name, type: expected[c.type], comment: c.comment })),
      );
    }
    expect(GLUE_RAW_PARTITION_KEYS.map((k) => k.name)).toEqual(['event_date', 'event_hour']);
  });
});

describe('data removal: the double opt-in', () => {
  it('retains data unless the environment allows it and the deploy confirms it', () => {
    const dev = environmentConfig('dev');
    expect(dataRemovalPolicy(dev)).toBe(RemovalPolicy.RETAIN);
    expect(dataRemovalPolicy(dev, 'dev')).toBe(RemovalPolicy.DESTROY);
    expect(() => dataRemovalPolicy(dev, 'prod')).toThrow(/does not name/);
    expect(() => dataRemovalPolicy(environmentConfig('prod'), 'prod')).toThrow(/does not allow/);
    expect(() => dataRemovalPolicy(environmentConfig('staging'), 'staging')).toThrow(/does not allow/);
  });

  it('deletes dev buckets and tables only when confirmed', () => {
    const stack = (confirmDestroyData?: string) =>
      Template.fromStack(
        new DataStack(newApp(), 'Data', {
          config: environmentConfig('dev'),
          datasets: DATASETS,
          confirmDestroyData,
        }),
      );
    const retained = stack();
    expect(Object.values(retained.findResources('AWS::S3::Bucket')).map((b) => b.DeletionPolicy)).toEqual(
      Array(7).fill('Retain'),
    );
    const destroyed = stack('dev');
    expect(Object.values(destroyed.findResources('AWS::S3::Bucket')).map((b) => b.DeletionPolicy)).toEqual(
      Array(7).fill('Delete'),
    );
    destroyed.hasResource('AWS::Glue::Table', { DeletionPolicy: 'Delete' });
    destroyed.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: Match.anyValue() });
  });

  it('names AZs from the region without lookups', () => {
    expect(availabilityZoneNames(environmentConfig('prod'))).toEqual([
      'eu-west-1a',
      'eu-west-1b',
      'eu-west-1c',
    ]);
  });
});
