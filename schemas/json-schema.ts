import { CURRENCY_CODES } from './currencies';
import type { DatasetDefinition, FieldSpec } from './types';

/**
 * JSON Schema (draft 2020-12) of one dataset's canonical record: the source for the sink's validator,
 * OpenAPI and PySpark. Data-quality rules stricter than the API contract (./contract.ts) are not
 * validation keywords: they travel separately in `x-quality`, which the curated zone enforces.
 */
export type JsonSchema = Record<string, unknown>;

/** Custom formats, implemented once in ./validation.ts (and mirrored by the PySpark loader). */
export const TIMESTAMP_FORMAT = 'iso-date-time';
export const DATE_OR_TIMESTAMP_FORMAT = 'iso-date-or-date-time';
/** Vendor keyword that carries the field kind, so every consumer of the JSON file can map storage types. */
export const KIND_KEYWORD = 'x-kind';
export const QUALITY_KEYWORD = 'x-quality';

/** A field's data-quality rules, as the curated zone reads them (glue-scripts/lakehouse_spark/registry.py). */
function fieldQuality(field: FieldSpec): JsonSchema | undefined {
  const rules: JsonSchema = {};
  if (field.minLength !== undefined) rules.min_length = field.minLength;
  if (field.minimum !== undefined) rules.minimum = field.minimum;
  if (field.knownValues) rules.known_values = [...field.knownValues];
  if (field.kind === 'currency') rules.iso_4217 = true;
  return Object.keys(rules).length > 0 ? rules : undefined;
}

function fieldSchema(field: FieldSpec): JsonSchema {
  const base: JsonSchema = { description: field.description, [KIND_KEYWORD]: field.kind };
  switch (field.kind) {
    case 'string':
      Object.assign(base, { type: 'string' });
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
      break;
    case 'currency':
      Object.assign(base, { type: 'string' });
      break;
    case 'json':
      Object.assign(base, { type: 'object' });
      break;
  }
  if (!field.required) base.type = [base.type as string, 'null'];
  const quality = fieldQuality(field);
  if (quality) base[QUALITY_KEYWORD] = quality;
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
    ...(Object.values(dataset.fields).some((f) => f.kind === 'currency')
      ? { [QUALITY_KEYWORD]: { currency_codes: [...CURRENCY_CODES] } }
      : {}),
    properties,
    required: Object.entries(dataset.fields)
      .filter(([, f]) => f.required)
      .map(([name]) => name),
  };
}
