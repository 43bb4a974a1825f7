import { coalescingProducer } from '../../../../lambdas/ingest/kafka/coalescing';
import {
  type KafkaMessage,
  type KafkaProducer,
  KafkaUnavailableError,
} from '../../../../lambdas/ingest/kafka/producer';

const msg = (key: string, size = 10): KafkaMessage => ({ key, value: 'v'.repeat(size), headers: {} });

/**
 * An inner producer whose sends complete only when the test says so, or fail at their timeout as the real
 * producers do (which tear down then: nothing is sent late).
 */
function gatedProducer(options: { honourTimeout?: boolean } = {}) {
  const sends: { topic: string; keys: string[]; timeoutMs?: number; finish: (error?: Error) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const producer: KafkaProducer = {
    send: (topic, messages, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        let done = false;
        const finish = (error?: Error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          inFlight -= 1;
          error ? reject(error) : resolve();
        };
        const timer =
          options.honourTimeout === false
            ? undefined
            : setTimeout(() => finish(new KafkaUnavailableError('timed out')), timeoutMs ?? 60_000);
        sends.push({ topic, keys: messages.map((m) => m.key), timeoutMs, finish });
      }),
    ping: async () => true,
    close: async () => {},
  };
  return { producer, sends, maxInFlight: () => maxInFlight };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('coalescingProducer', () => {
  test('the budget of one combined send counts UTF-8 bytes, headers included, not UTF-16 units', async () => {
    const inner = gatedProducer();
    // 400 characters of 'é' are 800 bytes: two of them fit 1,000 characters but not 1,000 bytes.
    const p = coalescingProducer(inner.producer, { maxBytes: 1_000, deadlineMs: 5_000 });
    const multiByte = (key: string): KafkaMessage => ({ key, value: 'é'.repeat(400), headers: { h: 'x' } });
    const first = p.send('t', [msg('a')]);
    await tick();
    const rest = [p.send('t', [multiByte('b')]), p.send('t', [multiByte('c')])];
    inner.sends[0]?.finish();
    await first;
    await tick();
    expect(inner.sends.slice(1).map((s) => s.keys)).toEqual([['b']]);
    inner.sends[1]?.finish();
    await tick();
    await tick();
    expect(inner.sends.slice(2).map((s) => s.keys)).toEqual([['c']]);
    inner.sends[2]?.finish();
    await Promise.all(rest);
  });

  test('an idle producer sends at once; sends arriving meanwhile go together in the next one', async () => {
    const inner = gatedProducer();
    const p = coalescingProducer(inner.producer, { maxBytes: 1_000_000, deadlineMs: 5_000 });
    const first = p.send('t', [msg('a')]);
    await tick();
    expect(inner.sends.map((s) => s.keys)).toEqual([['a']]);
    const rest = [p.send('t', [msg('b')]), p.send('t', [msg('c'), msg('d')]), p.send('u', [msg('e')])];
    await tick();
    expect(inner.sends).toHaveLength(1);
    inner.sends[0]?.finish();
    await first;
    await tick();
    expect(inner.sends.slice(1).map((s) => [s.topic, s.keys])).toEqual([['t', ['b', 'c', 'd']]]);
    inner.sends[1]?.finish();
    await tick();
    expect(inner.sends.slice(2).map((s) => [s.topic, s.keys])).toEqual([['u', ['e']]]);
    inner.sends[2]?.finish();
    await Promise.all(rest);
    expect(inner.maxInFlight()).toBe(1);
  });

  test('a failed send fails exactly the callers whose messages it carried', async () => {
    const inner = gatedProducer();
    const p = coalescingProducer(inner.producer, { maxBytes: 1_000_000, deadlineMs: 5_000 });
    const a = p.send('t', [msg('a')]);
    await tick();
    const b = p.send('t', [msg('b')]);
    const c = p.send('t', [msg('c')]);
    inner.sends[0]?.finish();
    await a;
    await tick();
    inner.sends[1]?.finish(new KafkaUnavailableError('down'));
    await expect(b).rejects.toThrow('down');
    await expect(c).rejects.toThrow('down');
    const d = p.send('t', [msg('d')]);
    await tick();
    inner.sends[2]?.finish();
    await expect(d).resolves.toBeUndefined();
  });

  test('combined sends stay under maxBytes, and one caller is never split', async () => {
    const inner = gatedProducer();
    const p = coalescingProducer(inner.producer, { maxBytes: 100, deadlineMs: 5_000 });
    const all = [p.send('t', [msg('a', 10)])];
    await tick();
    all.push(
      p.send('t', [msg('b', 49)]),
      p.send('t', [msg('c', 49)]),
      p.send('t', [msg('d', 150), msg('e', 150)]),
    );
    for (let i = 0; i < 4; i++) {
      await tick();
      inner.sends[i]?.finish();
    }
    await Promise.all(all);
    expect(inner.sends.map((s) => s.keys)).toEqual(
      [['a'], ['b', 'c'], ['d', 'e']].slice(0, 2).concat([['d', 'e']]),
    );
  });

  test('a caller queued behind a hung send is dropped at its deadline, never sent', async () => {
    const inner = gatedProducer();
    const p = coalescingProducer(inner.producer, { maxBytes: 1_000_000, deadlineMs: 5_000 });
    const hung = p.send('t', [msg('a')]);
    await tick();
    await expect(p.send('t', [msg('b')], 10)).rejects.toBeInstanceOf(KafkaUnavailableError);
    inner.sends[0]?.finish();
    await hung;
    await tick();
    expect(inner.sends.map((s) => s.keys)).toEqual([['a']]);
  });

  test('a combined send must end by the earliest deadline of the callers it carries', async () => {
    const inner = gatedProducer();
    const p = coalescingProducer(inner.producer, { maxBytes: 1_000_000, deadlineMs: 5_000 });
    const first = p.send('t', [msg('a')]);
    await tick();
    expect(inner.sends[0]?.timeoutMs).toBeLessThanOrEqual(5_000);
    const rest = [p.send('t', [msg('b')], 500), p.send('t', [msg('c')])];
    inner.sends[0]?.finish();
    await first;
    await tick();
    expect(inner.sends[1]?.keys).toEqual(['b', 'c']);
    expect(inner.sends[1]?.timeoutMs).toBeLessThanOrEqual(500);
    expect(inner.sends[1]?.timeoutMs).toBeGreaterThan(0);
    inner.sends[1]?.finish();
    await Promise.all(rest);
  });

  test('a caller in flight is answered by the inner send, not by its own timer', async () => {
    jest.useFakeTimers();
    try {
      const inner = gatedProducer({ honourTimeout: false });
      const p = coalescingProducer(inner.producer, { maxBytes: 1_000_000, deadlineMs: 20 });
      let answered = false;
      const sent = p.send('t', [msg('a')]).finally(() => {
        answered = true;
      });
      jest.advanceTimersByTime(40);
      await Promise.resolve();
      expect(answered).toBe(false);
      inner.sends[0]?.finish();
      await expect(sent).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });
});
