import type { DatasetDefinition } from './types';

/**
 * The versions of a dataset at run time. A definition is its latest version; each field's `since` says
 * which version added it, so every earlier version is the definition minus the fields added after it.
 * The API takes records of any of them (request header X-Schema-Version, default the latest) and the
 * sink validates and writes each record by the version in its Kafka header, so producers and the sink
 * can be rolled out in any order after a compatible change. What `since` cannot express (a kind
 * widening, a new known value) needs no version of its own at run time: the latest accepts more.
 */

/**
 * The request header by which a producer names the schema version its records follow. Absent means the
 * latest, so producers that never heard of versions keep working; during a rollout a producer still on
 * the previous version sends it (or sends nothing: the latest takes every record of an earlier version,
 * as the compatibility check guarantees, but then a field added since is judged by the latest contract).
 */
export const SCHEMA_VERSION_HEADER = 'x-schema-version';

/** The dataset as it was at `version` (1..schemaVersion): the fields added up to then. */
export function definitionAt(definition: DatasetDefinition, version: number): DatasetDefinition {
  if (!Number.isInteger(version) || version < 1 || version > definition.schemaVersion) {
    throw new Error(`${definition.name} has no version ${version} (1..${definition.schemaVersion})`);
  }
  if (version === definition.schemaVersion) return definition;
  const fields = Object.fromEntries(
    Object.entries(definition.fields).filter(([, f]) => (f.since ?? 1) <= version),
  );
  return { ...definition, schemaVersion: version, fields };
}

/** Every version of the dataset, oldest first; the last is the definition itself. */
export function definitionVersions(definition: DatasetDefinition): DatasetDefinition[] {
  return Array.from({ length: definition.schemaVersion }, (_, i) => definitionAt(definition, i + 1));
}

/** Fields whose `since` is not a version of the dataset (or is later than 1 on a required field). */
export function sinceProblems(definition: DatasetDefinition): string[] {
  return Object.entries(definition.fields).flatMap(([name, f]) => {
    const { since } = f;
    if (since === undefined) return [];
    if (!Number.isInteger(since) || since < 1 || since > definition.schemaVersion) {
      return [
        `${definition.name}: field "${name}" has since ${since}, not a version in 1..${definition.schemaVersion}.`,
      ];
    }
    return f.required && since > 1
      ? [`${definition.name}: field "${name}" is required but added in v${since}; add it as optional.`]
      : [];
  });
}

/** The export name of a version's precompiled validator (schemas/generated/validators.js). */
export function validatorKey(definition: DatasetDefinition, version: number): string {
  return version === definition.schemaVersion ? definition.name : `${definition.name}_v${version}`;
}
