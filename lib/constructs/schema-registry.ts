import { type CfnResource, aws_glue as glue, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** One dataset's contract as other teams discover it. */
export interface PublishedSchema {
  /** The schema's name in the registry (the dataset's name). */
  readonly name: string;
  /** Shown in the registry; at most 1000 characters. */
  readonly description: string;
  /** The JSON schema text of every published version, oldest first (schemas/history/<dataset>/). */
  readonly versions: readonly string[];
}

export interface SchemaRegistryProps {
  /** The registry's name, one per environment. */
  readonly registryName: string;
  readonly schemas: readonly PublishedSchema[];
  /**
   * What happens to the registry and its schemas when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The datasets' contracts in the AWS Glue Schema Registry: one registry, one JSON schema per dataset with
 * BACKWARD compatibility, and every committed version registered in order. The first version is the
 * schema's definition and each later one an AWS::Glue::SchemaVersion, because changing a schema's
 * definition replaces the schema (losing its versions) while a new version resource only adds one; a
 * published version never changes (the compatibility test guards the history).
 */
export class SchemaRegistry extends Construct {
  readonly registry: glue.CfnRegistry;
  readonly schemas: Record<string, glue.CfnSchema> = {};

  constructor(scope: Construct, id: string, props: SchemaRegistryProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.registry = new glue.CfnRegistry(this, 'Registry', {
      name: props.registryName,
      description: 'Data contracts of the streaming lakehouse datasets (JSON schema per dataset).',
    });
    this.registry.applyRemovalPolicy(removalPolicy);
    for (const published of props.schemas) {
      const [first, ...later] = published.versions.map(glueJsonSchema);
      if (first === undefined) throw new Error(`${published.name} has no published version`);
      const schema = new glue.CfnSchema(this, published.name, {
        name: published.name,
        registry: { arn: this.registry.attrArn },
        dataFormat: 'JSON',
        compatibility: 'BACKWARD',
        description: published.description,
        schemaDefinition: first,
      });
      schema.applyRemovalPolicy(removalPolicy);
      this.schemas[published.name] = schema;
      let previous: CfnResource = schema;
      later.forEach((definition, i) => {
        const version = new glue.CfnSchemaVersion(this, `${published.name}V${i + 2}`, {
          schema: { schemaArn: schema.attrArn },
          schemaDefinition: definition,
        });
        // Versions register in order, so Glue numbers them as the history does.
        version.addResourceDependency(previous);
        version.applyRemovalPolicy(removalPolicy);
        previous = version;
      });
    }
  }
}

/**
 * Glue validates JSON schemas of drafts 04 to 07; ours use only keywords draft-07 has, so the published
 * text declares draft-07 (the `x-` keywords are annotations every draft ignores).
 */
function glueJsonSchema(text: string): string {
  return JSON.stringify({ ...JSON.parse(text), $schema: 'http://json-schema.org/draft-07/schema#' });
}
