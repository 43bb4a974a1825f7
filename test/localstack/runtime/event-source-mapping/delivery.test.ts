import {
  backoffDelay,
  type DeliveryOptions,
  deliver,
  type InvocationOutcome,
  outcomeOf,
  type Positioned,
} from '../../../../localstack/runtime/event-source-mapping/delivery';

const records = (from: number, to: number): Positioned[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ offset: String(from + i) }));

/** Runs `deliver` with a scripted function and records what it saw, committed and waited. */
async function run(
  input: readonly Positioned[],
  script: (batch: readonly Positioned[], call: number) => InvocationOutcome,
  options: {
    batchSize?: number;
    stopAfterCalls?: number;
    onFailure?: DeliveryOptions<Positioned>['onFailure'];
  } = {},
) {
  const invocations: string[][] = [];
  const commits: Array<[string, number]> = [];
  const waits: number[] = [];
  const committed = await deliver(input, {
    batchSize: options.batchSize ?? 100,
    invoke: async (batch) => {
      invocations.push(batch.map((r) => r.offset));
      return script(batch, invocations.length);
    },
    commit: async (offset, count) => {
      commits.push([offset, count]);
    },
    shouldContinue: () => options.stopAfterCalls === undefined || invocations.length < options.stopAfterCalls,
    wait: async (ms) => {
      waits.push(ms);
    },
    backoff: { initialMs: 100, maxMs: 1_000 },
    ...(options.onFailure && { onFailure: options.onFailure }),
  });
  return { committed, invocations, commits, waits };
}

describe('local event source mapping delivery rules', () => {
  it('cuts records into invocations of at most batchSize and commits after each success', async () => {
    const { committed, invocations, commits, waits } = await run(records(10, 14), () => ({ ok: true }), {
      batchSize: 2,
    });
    expect(invocations).toEqual([['10', '11'], ['12', '13'], ['14']]);
    expect(commits).toEqual([
      ['12', 2],
      ['14', 2],
      ['15', 1],
    ]);
    expect(committed).toBe(5);
    expect(waits).toEqual([]);
  });

  it('commits only up to the first failed record and retries from it with exponential backoff', async () => {
    const { invocations, commits, waits } = await run(records(0, 5), (batch, call) => {
      if (call === 1) return { ok: false, retryFrom: '3' };
      if (call <= 3) return { ok: false, retryFrom: batch[0]?.offset ?? '' };
      return { ok: true };
    });
    expect(invocations).toEqual([
      ['0', '1', '2', '3', '4', '5'],
      ['3', '4', '5'],
      ['3', '4', '5'],
      ['3', '4', '5'],
    ]);
    expect(commits).toEqual([
      ['3', 3],
      ['6', 3],
    ]);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('leaves the rest uncommitted when stopping, so the next consumer resumes there', async () => {
    const { committed, invocations, commits } = await run(records(0, 9), () => ({ ok: true }), {
      batchSize: 3,
      stopAfterCalls: 2,
    });
    expect(invocations).toHaveLength(2);
    expect(commits.at(-1)).toEqual(['6', 3]);
    expect(committed).toBe(6);
  });

  it('after maxRetryAttempts retries, sends the failed records to the destination and commits past them', async () => {
    const sent: Array<[string[], number]> = [];
    const { committed, invocations, commits } = await run(
      records(0, 5),
      (batch) => (batch[0]?.offset === '0' ? { ok: false, retryFrom: '0' } : { ok: true }),
      {
        batchSize: 3,
        onFailure: {
          maxRetryAttempts: 2,
          send: async (failed, count) => {
            sent.push([failed.map((r) => r.offset), count]);
          },
        },
      },
    );
    // One invocation and two retries of [0..2], then the next batch as if nothing happened.
    expect(invocations).toEqual([
      ['0', '1', '2'],
      ['0', '1', '2'],
      ['0', '1', '2'],
      ['3', '4', '5'],
    ]);
    expect(sent).toEqual([[['0', '1', '2'], 3]]);
    expect(commits).toEqual([
      ['3', 3],
      ['6', 3],
    ]);
    expect(committed).toBe(6);
  });

  it('gives up only the records after a partial success, and keeps retrying while the destination fails', async () => {
    const sent: string[][] = [];
    let destinationUp = false;
    const { invocations, commits } = await run(
      records(0, 3),
      (_batch, call) => {
        if (call === 1) return { ok: false, retryFrom: '2' };
        if (call === 4) destinationUp = true;
        return { ok: false, retryFrom: '2' };
      },
      {
        onFailure: {
          maxRetryAttempts: 0,
          send: async (failed) => {
            if (!destinationUp) throw new Error('destination unreachable');
            sent.push(failed.map((r) => r.offset));
          },
        },
      },
    );
    expect(invocations).toEqual([
      ['0', '1', '2', '3'],
      ['2', '3'],
      ['2', '3'],
      ['2', '3'],
    ]);
    expect(sent).toEqual([['2', '3']]);
    expect(commits).toEqual([
      ['2', 2],
      ['4', 2],
    ]);
  });

  it('retries forever with maxRetryAttempts -1', async () => {
    const { invocations, commits } = await run(
      records(0, 0),
      (_batch, call) => (call < 30 ? { ok: false, retryFrom: '0' } : { ok: true }),
      {
        onFailure: {
          maxRetryAttempts: -1,
          send: async () => {
            throw new Error('never called');
          },
        },
      },
    );
    expect(invocations).toHaveLength(30);
    expect(commits).toEqual([['1', 1]]);
  });

  it('caps the backoff', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay({ initialMs: 100, maxMs: 1_000 }, n))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });
});

describe('reading batch item failures', () => {
  const batch = [5, 6, 7, 8].map((o) => ({ offset: String(o), partition: 2 }));

  it('treats no result, an empty list or no list as success', () => {
    for (const result of [undefined, null, {}, { batchItemFailures: [] }, { batchItemFailures: null }]) {
      expect(outcomeOf(result, batch)).toEqual({ ok: true });
    }
  });

  it('resumes at the lowest failed offset, in either identifier form', () => {
    expect(
      outcomeOf(
        {
          batchItemFailures: [
            { itemIdentifier: { partition: 'raw_x-2', offset: 8 } },
            { itemIdentifier: 'raw_x-2@6' },
          ],
        },
        batch,
      ),
    ).toEqual({ ok: false, retryFrom: '6' });
  });

  it('fails the whole batch on an identifier that names no record of it', () => {
    for (const itemIdentifier of ['', null, 'raw_x-2@99', { offset: 'x' }]) {
      expect(outcomeOf({ batchItemFailures: [{ itemIdentifier }] }, batch)).toEqual({
        ok: false,
        retryFrom: '5',
      });
    }
  });
});
