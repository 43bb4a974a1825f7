import type { DatasetDefinition, FieldSpec } from './types';

/** JSON Schema (draft 2020-12) of one dataset's record: the source for validators, OpenAPI and PySpark. */
export type JsonSchema = Record<string, unknown>;

/** Custom formats, implemented once in ./validation.ts (and mirrored by the PySpark loader). */
export const TIMESTAMP_FORMAT = 'iso-date-time';
export const DATE_OR_TIMESTAMP_FORMAT = 'iso-date-or-date-time';
/** Vendor keyword that carries the field kind, so every consumer of the JSON file can map storage types. */
export const KIND_KEYWORD = 'x-kind';
export const KNOWN_VALUES_KEYWORD = 'x-known-values';

function fieldSchema(field: FieldSpec): JsonSchema {
  const base: JsonSchema = { description: field.description, [KIND_KEYWORD]: field.kind };
  switch (field.kind) {
    case 'string':
      Object.assign(base, { type: 'string' });
      if (field.minLength !== undefined) base.minLength = field.minLength;
      if (field.knownValues) base[KNOWN_VALUES_KEYWORD] = [...field.knownValues];
      break;
    case 'timestamp':
      Object.assign(base, { type: 'string', format: TIMESTAMP_FORMAT });
      break;
    case 'date_or_timestamp':
      Object.assign(base, { type: 'string', format: DATE_OR_TIMESTAMP_FORMAT });
      break;
    case 'number':
    case 'money':
      Object.assign(base, { type: 'number' });
      if (field.minimum !== undefined) base.minimum = field.minimum;
      break;
    case 'currency':
      Object.assign(base, { type: 'string', pattern: '^[A-Za-z]{3}$' });
      break;
    case 'json':
      Object.assign(base, { type: 'object' });
      break;
  }
  if (!field.required) base.type = [base.type as string, 'null'];
  base.examples = [field.example];
  return base;
}

export function recordJsonSchema(dataset: DatasetDefinition): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, field] of Object.entries(dataset.fields)) properties[name] = fieldSchema(field);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:lakehouse:dataset:${dataset.name}:v${dataset.schemaVersion}`,
    title: dataset.title,
    type: 'object',
    'x-dataset': dataset.name,
    'x-id-field': dataset.idField,
    'x-event-time-field': dataset.eventTimeField,
    'x-schema-version': dataset.schemaVersion,
    properties,
    required: Object.entries(dataset.fields)
      .filter(([, f]) => f.required)
      .map(([name]) => name),
  };
}
