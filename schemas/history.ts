import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { incompatibilities } from './compatibility';
import { type JsonSchema, recordJsonSchema } from './json-schema';
import type { DatasetDefinition } from './types';
import { definitionAt, sinceProblems } from './versions';

/**
 * The committed history of every dataset's schema versions: schemas/history/<dataset>/v<N>.schema.json,
 * written once by `npm run schemas` and never rewritten (a published version is immutable). The
 * compatibility test checks the current definitions against it; CDK publishes it to the Glue Schema
 * Registry. Reads files, so Lambdas never import it.
 */
export const HISTORY_DIR = join(__dirname, 'history');

export interface CommittedVersion {
  readonly version: number;
  /** The file's text, exactly as committed (what the Glue Schema Registry receives). */
  readonly text: string;
  readonly schema: JsonSchema;
}

export function historyFile(dataset: string, version: number, dir = HISTORY_DIR): string {
  return join(dir, dataset, `v${version}.schema.json`);
}

/** The text a version file holds: the dataset's record JSON schema. */
export function historyText(definition: DatasetDefinition): string {
  return `${JSON.stringify(recordJsonSchema(definition), null, 2)}\n`;
}

/** A dataset's committed versions, oldest first (none when it has no history yet). */
export function committedVersions(dataset: string, dir = HISTORY_DIR): CommittedVersion[] {
  const folder = join(dir, dataset);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((file) => /^v(\d+)\.schema\.json$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const text = readFileSync(join(folder, m[0]), 'utf8');
      return { version: Number(m[1]), text, schema: JSON.parse(text) as JsonSchema };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Why the current definition cannot take its place in the history (empty when it can): its version
 * was already published with other content, it is older than a published version, or it is not backward
 * compatible with a published version. `npm run schemas` refuses to publish then; `npm test` fails.
 */
export function historyProblems(
  definition: DatasetDefinition,
  committed: readonly CommittedVersion[],
): string[] {
  const current = recordJsonSchema(definition);
  return [
    ...historyConflicts(definition, committed),
    ...sinceProblems(definition),
    ...sinceMismatches(definition, committed),
    ...committed.flatMap(({ version, schema }) =>
      incompatibilities(schema, current).map(
        (p) =>
          `${definition.name} v${definition.schemaVersion} is incompatible with the published v${version}: ${p}`,
      ),
    ),
  ];
}

/**
 * The API and the sink take the earlier versions that `since` derives (./versions.ts): each must have
 * no field that the version published under its number lacked.
 */
function sinceMismatches(definition: DatasetDefinition, committed: readonly CommittedVersion[]): string[] {
  if (sinceProblems(definition).length > 0) return [];
  return committed
    .filter(({ version }) => version < definition.schemaVersion)
    .flatMap(({ version, schema }) => {
      const published = Object.keys(schema.properties as object);
      const derived = Object.keys(definitionAt(definition, version).fields);
      // A field published then and gone now is a removal, which the compatibility check reports.
      const extra = derived.filter((f) => !published.includes(f));
      if (extra.length === 0) return [];
      return [
        `${definition.name}: v${version} as derived from the fields' \`since\` differs from the published ` +
          `v${version} (not published then: ${extra.join(', ')}). Set \`since\` on every field to the version that added it.`,
      ];
    });
}

function historyConflicts(definition: DatasetDefinition, committed: readonly CommittedVersion[]): string[] {
  const { name, schemaVersion } = definition;
  const same = committed.find((c) => c.version === schemaVersion);
  const latest = committed.at(-1);
  if (same && same.text !== historyText(definition)) {
    return [
      `${name}: the definition differs from the published v${schemaVersion} (${historyFile(name, schemaVersion)}); ` +
        'a published version is immutable: bump schemaVersion and run `npm run schemas`.',
    ];
  }
  if (latest && schemaVersion < latest.version) {
    return [`${name}: schemaVersion ${schemaVersion} is older than the published v${latest.version}.`];
  }
  return [];
}
