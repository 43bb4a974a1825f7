/**
 * Writes schemas/generated/ for every dataset: <dataset>.schema.json, the JSON
 * schema that the PySpark jobs load, and validators.js (+ .d.ts), the precompiled validators the
 * registry uses. `npm run schemas` regenerates; a test fails when a file is stale.
 * Also adds each dataset's current version to schemas/history/ when it is not there yet; fails, writing
 * nothing, when a definition differs from the published file of its version (bump schemaVersion) or is
 * not backward compatible with a published version.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  DATASETS,
  type DatasetDefinition,
  MONEY_PRECISION,
  MONEY_SCALE,
  rawColumns,
  recordJsonSchema,
  topicOf,
} from '../schemas';
import { standaloneValidatorsSource, standaloneValidatorsTypes } from '../schemas/ajv-compile';
import { committedVersions, historyFile, historyProblems, historyText } from '../schemas/history';

export const GENERATED_DIR = join(__dirname, '..', 'schemas', 'generated');

/** How the curated zone stores `money` fields (DECIMAL(precision, scale)). */
const MONEY_DECIMAL = { precision: MONEY_PRECISION, scale: MONEY_SCALE };

/**
 * `<dataset>.schema.json`: the JSON schema with what the Spark jobs need beside it (their --schema_uri): the
 * topic, the raw columns, the money decimal and the streaming window.
 */
export function sparkSchemaText(d: DatasetDefinition): string {
  const spark = {
    ...recordJsonSchema(d),
    'x-topic': topicOf(d),
    'x-raw-columns': rawColumns(d),
    'x-money': MONEY_DECIMAL,
    ...(d.streamingWindow && {
      'x-window': { group_by: [...d.streamingWindow.groupBy], measure: d.streamingWindow.measure },
    }),
  };
  return `${JSON.stringify(spark, null, 2)}\n`;
}

export function generatedSchemaFiles(): Record<string, string> {
  return Object.fromEntries([
    ['validators.js', standaloneValidatorsSource(DATASETS)],
    ['validators.d.ts', standaloneValidatorsTypes(DATASETS)],
    ...DATASETS.map((d) => [`${d.name}.schema.json`, sparkSchemaText(d)]),
  ]);
}

if (require.main === module) {
  const problems = DATASETS.flatMap((d) => historyProblems(d, committedVersions(d.name)));
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  for (const d of DATASETS) {
    const file = historyFile(d.name, d.schemaVersion);
    if (existsSync(file)) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, historyText(d));
    console.log(`published ${d.name} v${d.schemaVersion} to ${file}`);
  }
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [file, text] of Object.entries(generatedSchemaFiles()))
    writeFileSync(join(GENERATED_DIR, file), text);
  console.log(`wrote ${Object.keys(generatedSchemaFiles()).length} schema files to ${GENERATED_DIR}`);
}
