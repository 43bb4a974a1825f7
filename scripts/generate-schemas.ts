/**
 * Writes schemas/generated/ for every dataset (platform and test datasets): <dataset>.schema.json, the JSON
 * schema that the PySpark jobs load, and validators.js (+ .d.ts), the precompiled validators the
 * registry uses. `npm run schemas` regenerates; a test fails when a file is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DATASETS,
  type DatasetDefinition,
  iotSensorEvents,
  MONEY_PRECISION,
  MONEY_SCALE,
  rawColumns,
  recordJsonSchema,
} from '../schemas';
import { standaloneValidatorsSource, standaloneValidatorsTypes } from '../schemas/ajv-compile';

export const GENERATED_DIR = join(__dirname, '..', 'schemas', 'generated');

/** How the curated zone stores `money` fields (DECIMAL(precision, scale)). */
const MONEY_DECIMAL = { precision: MONEY_PRECISION, scale: MONEY_SCALE };

export function generatedSchemaFiles(): Record<string, string> {
  const all: readonly DatasetDefinition[] = [...DATASETS, iotSensorEvents];
  return Object.fromEntries([
    ['validators.js', standaloneValidatorsSource(all)],
    ['validators.d.ts', standaloneValidatorsTypes(all)],
    ...all.map((d) => [
      `${d.name}.schema.json`,
      `${JSON.stringify({ ...recordJsonSchema(d), 'x-raw-columns': rawColumns(d), 'x-money': MONEY_DECIMAL }, null, 2)}\n`,
    ]),
  ]);
}

if (require.main === module) {
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [file, text] of Object.entries(generatedSchemaFiles()))
    writeFileSync(join(GENERATED_DIR, file), text);
  console.log(`wrote ${Object.keys(generatedSchemaFiles()).length} schema files to ${GENERATED_DIR}`);
}
