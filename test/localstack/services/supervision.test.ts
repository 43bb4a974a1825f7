import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { environmentConfig } from '../../../lib/config/environments';
import { type Pipeline, startPipeline } from '../../../localstack/runtime/pipeline';
import { isAlive, spawnService, waitFor } from '../../../localstack/services/process';
import { type RestartEvent, Supervision, supervise } from '../../../localstack/services/supervisor';
import { RecordFactory } from '../../../localstack/tools/generator/records';
import { RawZone } from '../../../localstack/tools/lake/raw-zone';
import { DATASETS, financialTransactions } from '../../../schemas';
import { awsClientConfig, createTestBucket, servicesEnv, uniqueName } from '../../support/services';

/**
 * The local platform supervises its parts as the managed services do: a process that dies is started again
 * with backoff, and the restart is logged and counted; one stopped on purpose stays stopped.
 */
jest.setTimeout(120_000);

const quickBackoff = { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 };

describe('supervise', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'supervise-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const sleeper = () =>
    Promise.resolve(
      spawnService('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        logFile: join(dir, 'sleeper.log'),
      }),
    );

  test('a killed process is restarted, counted and logged; a stopped one is not', async () => {
    const lines: string[] = [];
    const events: RestartEvent[] = [];
    const supervision = new Supervision((line) => lines.push(line), quickBackoff);
    supervision.onRestart((event) => events.push(event));
    const supervised = await supervise('sleeper', sleeper, supervision);
    const first = supervised.current()?.pid as number;

    process.kill(first, 'SIGKILL');
    const second = await waitFor(
      () => {
        const pid = supervised.current()?.pid;
        return pid !== undefined && pid !== first ? pid : undefined;
      },
      { timeoutMs: 10_000, what: 'the restart' },
    );
    expect(isAlive(second)).toBe(true);
    expect(events).toEqual([
      expect.objectContaining({
        process: 'sleeper',
        reason: 'was killed by SIGKILL',
        restarts: 1,
        pid: second,
      }),
    ]);
    expect(supervision.restarts()).toEqual({ sleeper: 1 });
    expect(lines.join('\n')).toContain('sleeper was killed by SIGKILL; restarted');

    await supervised.stop();
    expect(isAlive(second)).toBe(false);
    expect(supervised.current()).toBeUndefined();
    expect(supervision.total()).toBe(1);
  });

  test('a restart that fails is tried again with growing backoff', async () => {
    const supervision = new Supervision(() => {}, quickBackoff);
    const events: RestartEvent[] = [];
    supervision.onRestart((event) => events.push(event));
    // The first start succeeds; the next two (the first restarts) fail.
    let starts = 0;
    const supervised = await supervise(
      'flaky',
      async () => {
        starts += 1;
        if (starts === 2 || starts === 3) throw new Error('port in use');
        return sleeper();
      },
      supervision,
    );
    process.kill(supervised.current()?.pid as number, 'SIGKILL');
    await waitFor(() => supervision.total() === 1, { timeoutMs: 10_000, what: 'the restart' });
    expect(events.map((e) => e.error ?? 'ok')).toEqual(['port in use', 'port in use', 'ok']);
    expect(events.map((e) => e.delayMs)).toEqual([50, 100, 200]);
    await supervised.stop();
  });
});

describe('the local pipeline under supervision', () => {
  let pipeline: Pipeline;
  let rawZone: RawZone;
  let s3: S3Client;
  const restarts: RestartEvent[] = [];

  beforeAll(async () => {
    s3 = new S3Client(awsClientConfig());
    const [rawBucket, quarantineBucket] = await Promise.all([
      createTestBucket('raw'),
      createTestBucket('quar'),
    ]);
    const supervision = new Supervision(() => {}, quickBackoff);
    supervision.onRestart((event) => restarts.push(event));
    pipeline = await startPipeline({
      services: servicesEnv(),
      apiPort: 0,
      rawBucket,
      quarantineBucket,
      groupPrefix: uniqueName('supervised-sink'),
      sink: { maxBatchingWindowSeconds: 0.2 },
      supervision,
    });
    rawZone = new RawZone(s3, rawBucket, DATASETS);
  });
  afterAll(async () => {
    await pipeline?.stop();
    s3?.destroy();
  });

  const factory = new RecordFactory({ invalidShare: 0, duplicateShare: 0, runId: uniqueName('sv') });
  async function post(): Promise<string> {
    const record = factory.next(financialTransactions.name);
    const response = await fetch(`${pipeline.api.url}${financialTransactions.route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(record.body),
    });
    expect(response.status).toBe(200);
    return record.id as string;
  }

  test('a killed API and a killed event source mapping come back on their own; nothing posted is lost', async () => {
    const ids = [await post()];
    const apiPid = pipeline.api.pid() as number;
    process.kill(apiPid, 'SIGKILL');
    // Clients keep their URL: the restarted API listens on the same port.
    await waitFor(
      async () =>
        pipeline.api.pid() !== apiPid &&
        (await fetch(`${pipeline.api.url}/`).then(
          (r) => r.ok,
          () => false,
        )),
      { timeoutMs: 30_000, what: 'the API to answer again' },
    );
    ids.push(await post());

    const sinkPids = (pipeline.sink ?? []).map((p) => p.pid);
    expect(sinkPids).toHaveLength(DATASETS.length * environmentConfig('local').sink.maxPollers);
    for (const pid of sinkPids) process.kill(pid, 'SIGKILL');
    await waitFor(
      () => {
        const now = (pipeline.sink ?? []).map((p) => p.pid);
        return now.length === sinkPids.length && now.every((pid) => !sinkPids.includes(pid));
      },
      { timeoutMs: 60_000, what: 'the event source mappings to be restarted' },
    );
    ids.push(await post());

    await waitFor(
      async () => {
        await rawZone.poll();
        const seen = new Set((await rawZone.rows()).map((r) => r.id));
        return ids.every((id) => seen.has(id));
      },
      { timeoutMs: 60_000, what: 'every accepted record in raw Parquet' },
    );
    expect(
      restarts
        .filter((e) => !e.error)
        .map((e) => e.process)
        .sort(),
    ).toEqual(
      [
        'local API',
        ...pipeline.topics.flatMap((topic) => pipeline.pollersOf(topic).map((p) => p.name)),
      ].sort(),
    );
    const metrics = await (await fetch(`${pipeline.api.url}/metrics`)).text();
    expect(metrics).toContain('lakehouse_process_restarts_total{process="local API"} 1');
  });
});
