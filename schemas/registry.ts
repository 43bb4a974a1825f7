import { financialTransactions } from './datasets/financial-transactions';
import { insuranceClaims } from './datasets/insurance-claims';
import { topicOf } from './envelope';
import type { DatasetDefinition } from './types';
import { compileValidator, newAjv, type RecordValidator } from './validation';

/**
 * The datasets the platform runs. Adding a dataset is one definition in ./datasets plus one entry here;
 * topics, routes, buckets prefixes, tables and jobs follow from this list.
 */
export const DATASETS = [
  financialTransactions,
  insuranceClaims,
] as const satisfies readonly DatasetDefinition[];

export interface RegisteredDataset {
  readonly definition: DatasetDefinition;
  readonly topic: string;
  readonly validate: RecordValidator;
}

/** Lookups over a set of datasets, with their validators compiled once. */
export interface DatasetRegistry {
  readonly datasets: readonly RegisteredDataset[];
  byName(name: string): RegisteredDataset | undefined;
  byTopic(topic: string): RegisteredDataset | undefined;
}

export function createRegistry(definitions: readonly DatasetDefinition[] = DATASETS): DatasetRegistry {
  if (new Set(definitions.map((d) => d.name)).size !== definitions.length) {
    throw new Error('Dataset names must be unique');
  }
  const ajv = newAjv();
  const datasets = definitions.map((definition) => ({
    definition,
    topic: topicOf(definition),
    validate: compileValidator(definition, ajv),
  }));
  const byName = new Map(datasets.map((d) => [d.definition.name, d]));
  const byTopic = new Map(datasets.map((d) => [d.topic, d]));
  return {
    datasets,
    byName: (name) => byName.get(name),
    byTopic: (topic) => byTopic.get(topic),
  };
}
