import { contractValidator } from './api/contract';
import { financialTransactions } from './datasets/financial-transactions';
import { insuranceClaims } from './datasets/insurance-claims';
import { iotSensorEvents } from './datasets/iot-sensor-events';
import { topicOf } from './envelope';
import * as precompiled from './generated/validators';
import { schemaHash } from './schema-hash';
import type { DatasetDefinition } from './types';
import { type CompiledValidate, type RecordValidator, recordValidator } from './validation';
import { definitionVersions, validatorKey } from './versions';

/**
 * The datasets the platform runs. Adding a dataset is one definition in ./datasets plus one entry here;
 * topics, routes, buckets prefixes, tables and jobs follow from this list.
 */
export const DATASETS = [
  financialTransactions,
  insuranceClaims,
  iotSensorEvents,
] as const satisfies readonly DatasetDefinition[];

/** One version of a dataset (./versions.ts) with its validators. */
export interface RegisteredVersion {
  /** The dataset as it was at this version (its schemaVersion is this version). */
  readonly definition: DatasetDefinition;
  /** The API contract (./contract.ts): what the replaced service accepted, as the canonical record. */
  readonly accept: RecordValidator;
  /** Checks a canonical record (what Kafka carries) against this version's JSON schema. */
  readonly validate: RecordValidator;
}

/** A dataset: its latest version's definition and validators, and every version by number. */
export interface RegisteredDataset extends RegisteredVersion {
  readonly topic: string;
  /** Every version, oldest first; the last is the latest (this dataset's own definition). */
  readonly versions: readonly RegisteredVersion[];
  /** A version by number, undefined for one the dataset does not have. */
  version(schemaVersion: number): RegisteredVersion | undefined;
}

/** Lookups over a set of datasets, with their validators compiled once. */
export interface DatasetRegistry {
  readonly datasets: readonly RegisteredDataset[];
  byName(name: string): RegisteredDataset | undefined;
  byTopic(topic: string): RegisteredDataset | undefined;
}

export interface RegistryOptions {
  /**
   * Compiles a validator for a definition that has no precompiled one (tests' ad-hoc datasets, e.g.
   * `compileValidator` from ./ajv-compile). Lambdas never pass it, so a stale build fails loudly.
   */
  readonly compile?: (definition: DatasetDefinition) => RecordValidator;
}

export function createRegistry(
  definitions: readonly DatasetDefinition[] = DATASETS,
  options: RegistryOptions = {},
): DatasetRegistry {
  if (new Set(definitions.map((d) => d.name)).size !== definitions.length) {
    throw new Error('Dataset names must be unique');
  }
  const problems = definitions.flatMap(streamingWindowProblems);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const datasets = definitions.map((definition): RegisteredDataset => {
    const versions = definitionVersions(definition).map((d) => ({
      definition: d,
      accept: contractValidator(d),
      validate:
        precompiledValidator(d, validatorKey(definition, d.schemaVersion)) ??
        compileOrFail(d, options.compile),
    }));
    // biome-ignore lint/style/noNonNullAssertion: a definition has at least version 1
    const latest = versions.at(-1)!;
    return {
      ...latest,
      topic: topicOf(definition),
      versions,
      version: (n) => versions[n - 1],
    };
  });
  const byName = new Map(datasets.map((d) => [d.definition.name, d]));
  const byTopic = new Map(datasets.map((d) => [d.topic, d]));
  return {
    datasets,
    byName: (name) => byName.get(name),
    byTopic: (topic) => byTopic.get(topic),
  };
}

function precompiledValidator(definition: DatasetDefinition, key: string): RecordValidator | undefined {
  const validate = (precompiled as unknown as Record<string, CompiledValidate | undefined>)[key];
  const fresh = validate && precompiled.SCHEMA_HASHES[key] === schemaHash(definition);
  return fresh ? recordValidator(validate) : undefined;
}

function compileOrFail(definition: DatasetDefinition, compile: RegistryOptions['compile']): RecordValidator {
  if (compile) return compile(definition);
  throw new Error(
    `The validator of dataset "${definition.name}" is missing or stale: run \`npm run schemas\` after changing a dataset definition.`,
  );
}

/** What is wrong with a dataset's streaming window: groups of required strings, a numeric measure. */
export function streamingWindowProblems(definition: DatasetDefinition): string[] {
  const window = definition.streamingWindow;
  if (!window) return [];
  const where = `${definition.name}.streamingWindow`;
  const problems = window.groupBy
    .filter((name) => {
      const field = definition.fields[name];
      return !(field?.kind === 'string' || field?.kind === 'currency') || !field.required;
    })
    .map((name) => `${where}.groupBy: "${name}" is not a required string or currency field`);
  const measure = definition.fields[window.measure];
  if (!measure || !['number', 'money'].includes(measure.kind)) {
    problems.push(`${where}.measure: "${window.measure}" is not a number or money field`);
  }
  if (window.groupBy.length === 0) problems.push(`${where}.groupBy: name at least one field`);
  return problems;
}
