import { Kafka, logLevel } from 'kafkajs';
import type { TopicSpec } from '../../../lib/config/topics';

/**
 * Creates the topics that do not exist yet (idempotent). Existing topics are left alone, so a restart
 * keeps their data; partitions are only ever added, never removed, so a topic with fewer partitions than
 * declared is grown.
 */
export async function ensureTopics(
  brokers: string[],
  specs: readonly TopicSpec[],
): Promise<{ created: string[]; existing: string[] }> {
  const admin = new Kafka({ clientId: 'lakehouse-topics', brokers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !present.has(spec.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const existing = specs.filter((spec) => present.has(spec.name));
    if (existing.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: existing.map((spec) => spec.name) });
      const grow = existing.filter(
        (spec) =>
          (metadata.topics.find((t) => t.name === spec.name)?.partitions.length ?? 0) < spec.partitions,
      );
      if (grow.length > 0) {
        await admin.createPartitions({
          topicPartitions: grow.map((s) => ({ topic: s.name, count: s.partitions })),
        });
      }
    }
    return { created: missing.map((s) => s.name), existing: existing.map((s) => s.name) };
  } finally {
    await admin.disconnect();
  }
}
