import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SchemaRegistry, type SchemaRegistryProps } from '../../../lib/constructs/schema-registry';
import { financialTransactions, recordJsonSchema } from '../../../schemas';
import { historyText } from '../../../schemas/history';

function synth(props: Partial<SchemaRegistryProps> & Pick<SchemaRegistryProps, 'schemas'>) {
  const stack = new Stack(new App(), 'Contracts', { env: { account: '123456789012', region: 'eu-west-1' } });
  new SchemaRegistry(stack, 'Contracts', { registryName: 'lakehouse-test-datasets', ...props });
  return Template.fromStack(stack);
}

const v1 = historyText(financialTransactions);
const v2 = historyText({
  ...financialTransactions,
  schemaVersion: 2,
  fields: {
    ...financialTransactions.fields,
    channel: { kind: 'string', required: false, description: 'Where the payment was made.', example: 'web' },
  },
});
const v3 = historyText({
  ...financialTransactions,
  schemaVersion: 3,
  fields: {
    ...financialTransactions.fields,
    channel: { kind: 'string', required: false, description: 'Where the payment was made.', example: 'web' },
    device: { kind: 'string', required: false, description: 'Device that paid.', example: 'phone' },
  },
});
type Resources = Record<string, { Properties: { SchemaDefinition: string } }>;
/** A template's resources of one type as [logical id, resource, parsed SchemaDefinition], in order. */
const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type) as Resources).map(
    ([id, r]) => [id, r, JSON.parse(r.Properties.SchemaDefinition)] as const,
  );
const published = (versions: string[]) => [
  { name: financialTransactions.name, description: 'Payments.', versions },
];

describe('SchemaRegistry', () => {
  test('one registry and one BACKWARD JSON schema per dataset, retained by default', () => {
    const template = synth({ schemas: published([v1]) });
    template.hasResource('AWS::Glue::Registry', {
      Properties: { Name: 'lakehouse-test-datasets' },
      DeletionPolicy: 'Retain',
    });
    template.hasResource('AWS::Glue::Schema', {
      Properties: {
        Name: 'financial_transactions',
        DataFormat: 'JSON',
        Compatibility: 'BACKWARD',
        Description: 'Payments.',
        Registry: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Registry'), 'Arn'] } },
      },
      DeletionPolicy: 'Retain',
    });
    template.resourceCountIs('AWS::Glue::SchemaVersion', 0);
  });

  test('publishes the committed version as draft-07, otherwise unchanged', () => {
    const template = synth({ schemas: published([v1]) });
    const schemas = resources(template, 'AWS::Glue::Schema');
    expect(schemas.map(([, , d]) => d)).toEqual([
      {
        ...recordJsonSchema(financialTransactions),
        $schema: 'http://json-schema.org/draft-07/schema#',
      },
    ]);
    // Glue's limit on a schema definition.
    expect(schemas[0]?.[1].Properties.SchemaDefinition.length).toBeLessThanOrEqual(170_000);
  });

  test('later versions are schema versions registered in order; the first stays the definition', () => {
    const template = synth({ schemas: published([v1, v2, v3]), removalPolicy: RemovalPolicy.DESTROY });
    const schemas = resources(template, 'AWS::Glue::Schema');
    const versions = resources(template, 'AWS::Glue::SchemaVersion');
    expect(schemas.map(([, , d]) => d['x-schema-version'])).toEqual([1]);
    expect(versions.map(([, , d]) => d['x-schema-version'])).toEqual([2, 3]);
    expect(versions[1]?.[1]).toMatchObject({
      Properties: { Schema: { SchemaArn: { 'Fn::GetAtt': [schemas[0]?.[0], 'Arn'] } } },
      DependsOn: [versions[0]?.[0]],
      DeletionPolicy: 'Delete',
    });
  });

  test('refuses a dataset without a published version', () => {
    expect(() => synth({ schemas: published([]) })).toThrow(
      /financial_transactions has no published version/,
    );
  });
});
