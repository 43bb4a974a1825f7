import { type DatasetDefinition, topicOf } from '../../schemas';
import type { EnvironmentConfig } from './environments';

/**
 * The Kafka topics of an environment: one per dataset (README.md#consuming-the-raw-topics-fan-out-and-replay). The CDK creates them on MSK and the local
 * platform creates them on its broker, both from this function.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: {
    readonly 'retention.ms': string;
    readonly 'min.insync.replicas': string;
    readonly 'cleanup.policy': 'delete';
  };
}

export function topicSpecs(
  env: Pick<EnvironmentConfig, 'topics'>,
  datasets: readonly Pick<DatasetDefinition, 'name'>[],
): TopicSpec[] {
  const { partitions, replicationFactor, minInsyncReplicas, retentionHours } = env.topics;
  return datasets.map((dataset) => ({
    name: topicOf(dataset),
    partitions,
    replicationFactor,
    configs: {
      'retention.ms': String(retentionHours * 3_600_000),
      'min.insync.replicas': String(minInsyncReplicas),
      'cleanup.policy': 'delete',
    },
  }));
}

/** Prefix of an environment's sink consumer groups: `<prefix>-sink`. */
export function sinkGroupPrefix(env: Pick<EnvironmentConfig, 'prefix'>): string {
  return `${env.prefix}-sink`;
}

/**
 * The sink's consumer group on a topic, `<groupPrefix>-<topic>`: one per event source mapping (one mapping
 * per topic), stable across deploys. The CDK's mappings and the local one name their groups with it.
 */
export function sinkConsumerGroup(groupPrefix: string, topic: string): string {
  return `${groupPrefix}-${topic}`;
}
