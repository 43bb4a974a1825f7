import { S3Client } from '@aws-sdk/client-s3';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../../../../lambdas/sink/config';
import { environmentConfig } from '../../../../lib/config/environments';
import {
  consumerLag,
  groupOf,
} from '../../../../localstack/runtime/event-source-mapping/event-source-mapping';
import type { SinkProcessMessage } from '../../../../localstack/runtime/event-source-mapping/main';
import {
  type SinkProcess,
  startSinkProcess,
} from '../../../../localstack/runtime/event-source-mapping/sink-process';
import { isAlive, waitFor } from '../../../../localstack/services/process';
import { getBytes, listObjects } from '../../../../localstack/tools/lake/objects';
import { ingestedHeaders, queryParquet, TOPIC, transaction } from '../../../lambdas/sink/support';
import {
  awsClientConfig,
  createTestBucket,
  servicesEnv,
  testKafka,
  uniqueName,
} from '../../../support/services';

/**
 * Lambda's event source mapping runs several pollers per topic, consumers of one group; when one dies its
 * partitions go to the survivors. Two pollers of the real sink (processes of their own, as `npm start`
 * runs them, unsupervised here so nobody restarts the victim) on the real broker: one is killed mid-stream,
 * the other takes over its partitions within seconds, and the raw Parquet read back with DuckDB holds every
 * record exactly once.
 */
jest.setTimeout(180_000);

const POLLERS = 2;
/** The group's session timeout (6 s) plus the rebalance: what "within seconds" means here. */
const TAKEOVER_MS = 20_000;

describe('several pollers per topic', () => {
  const pollers: SinkProcess[] = [];
  const s3 = new S3Client(awsClientConfig());
  const admin = testKafka().admin();
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await Promise.allSettled(pollers.map((p) => (isAlive(p.pid) ? p.stop() : undefined)));
    await admin.disconnect();
    s3.destroy();
  });

  /** The group's committed offset of every partition of the topic. */
  const committedOffsets = async (groupId: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [TOPIC] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  };

  it('hands a killed poller’s partitions to the survivor: nothing lost, nothing doubled', async () => {
    const [rawBucket, quarantineBucket] = await Promise.all([
      createTestBucket('raw'),
      createTestBucket('quar'),
    ]);
    const env = {
      ...process.env,
      ...servicesEnv(),
      [RAW_BUCKET]: rawBucket,
      [QUARANTINE_BUCKET]: quarantineBucket,
      [GLUE_DATABASE]: uniqueName('db'),
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    const groupPrefix = uniqueName('pollers');
    const groupId = groupOf(groupPrefix, TOPIC);
    // The group starts where the shared topic ends now: it owes nothing of what other tests left there,
    // and (unlike LATEST) a partition moved in a rebalance resumes at a committed offset, never at the end.
    await admin.setOffsets({
      groupId,
      topic: TOPIC,
      partitions: (await admin.fetchTopicOffsets(TOPIC)).map(({ partition, high }) => ({
        partition,
        offset: high,
      })),
    });
    const committedBy = new Map<number, number>();
    const config = {
      brokers: servicesEnv().KAFKA_BROKERS?.split(',') ?? [],
      topics: [TOPIC],
      groupPrefix,
      sink: { ...environmentConfig('local').sink, maxBatchingWindowSeconds: 0.2 },
    };
    for (let i = 0; i < POLLERS; i += 1) {
      const index = i;
      pollers.push(
        await startSinkProcess(config, {
          env,
          onMessage: (message: SinkProcessMessage) => {
            if (message.type === 'commit') {
              committedBy.set(index, (committedBy.get(index) ?? 0) + message.records);
            }
          },
        }),
      );
    }

    const producer = testKafka().producer();
    await producer.connect();
    const run = uniqueName('poll');
    const ids: string[] = [];
    const sendSome = async (n: number) => {
      const now = new Date().toISOString();
      const batch = Array.from({ length: n }, () => `${run}-${ids.length}`).map((id, i) => `${id}-${i}`);
      ids.push(...batch);
      await producer.send({
        topic: TOPIC,
        messages: batch.map((id) => ({
          key: id,
          value: JSON.stringify(transaction(id, now.replace('Z', ''))),
          headers: ingestedHeaders({ ingest_time: now, request_id: run }),
        })),
      });
    };
    let takeoverMs: number;
    try {
      // Both pollers at work: the keys spread over the three partitions, and each poller owns some.
      await waitFor(
        async () => {
          await sendSome(50);
          return committedBy.size === POLLERS;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'both pollers to commit' },
      );
      const [victim, survivor] = pollers as [SinkProcess, SinkProcess];
      process.kill(victim.pid, 'SIGKILL');
      const killedAt = Date.now();
      const atKill = await committedOffsets(groupId);
      // Records keep coming; the victim's partitions move on again once the survivor owns them.
      takeoverMs = await waitFor(
        async () => {
          await sendSome(50);
          const now = await committedOffsets(groupId);
          const moved = [...atKill].every(([partition, offset]) => (now.get(partition) ?? -1n) > offset);
          return moved ? Date.now() - killedAt : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'every partition to be committed past the kill' },
      );
      for (let i = 0; i < 5; i += 1) await sendSome(50);
      await waitFor(async () => (await consumerLag(admin, groupPrefix, [TOPIC])).every((p) => p.lag === 0), {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: 'the survivor to commit everything',
      });
      expect(isAlive(survivor.pid)).toBe(true);
    } finally {
      await producer.disconnect();
    }
    console.log(`survivor committed the killed poller's partitions ${takeoverMs} ms after the kill`);
    expect(takeoverMs).toBeLessThan(TAKEOVER_MS);

    const keys = (await listObjects(s3, rawBucket)).map((o) => o.key).filter((k) => k.endsWith('.parquet'));
    const files = await Promise.all(keys.map((key) => getBytes(s3, rawBucket, key)));
    const rows = await queryParquet(
      files,
      `SELECT transaction_id AS id, count(*)::INTEGER AS n FROM read_parquet({files})
       WHERE starts_with(transaction_id, '${run}') GROUP BY 1`,
    );
    const counts = new Map(rows.map((r) => [String(r.id), Number(r.n)]));
    expect(ids.filter((id) => !counts.has(id))).toEqual([]); // none lost
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]); // none doubled
    expect(counts.size).toBe(ids.length);
  });
});
