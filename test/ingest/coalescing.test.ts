import { coalescingProducer } from '../../lambdas/shared/kafka/coalescing';
import {
  type KafkaMessage,
  type KafkaProducer,
  KafkaUnavailableError,
} from '../../lambdas/shared/kafka/producer';

const msg = (key: string, size = 10): KafkaMessage => ({ key, value: 'v'.repeat(size), headers: {} });

/** An inner producer whose sends complete only when the test says so. */
function gatedProducer() {
  const sends: { topic: string; keys: string[]; finish: (error?: Error) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const producer: KafkaProducer = {
    send: (topic, messages) =>
      new Promise<void>((resolve, reject) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        sends.push({
          topic,
          keys: messages.map((m) => m.key),
          finish: (error) => {
            inFlight -= 1;
            error ? reject(error) : resolve();
          },
        });
      }),
    ping: async () => true,
    close: async () => {},
  };
  return { producer, sends, maxInFlight: () => maxInFlight };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('coalescingProducer', () => {
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

  test('a caller stuck behind a hung send gets KafkaUnavailableError at its deadline, and is never sent late', async () => {
    const inner = gatedProducer();
    const p = coalescingProducer(inner.producer, { maxBytes: 1_000_000, deadlineMs: 50 });
    const hung = p.send('t', [msg('a')]);
    await tick();
    const queued = p.send('t', [msg('b')]);
    await expect(queued).rejects.toBeInstanceOf(KafkaUnavailableError);
    await expect(hung).rejects.toBeInstanceOf(KafkaUnavailableError);
    inner.sends[0]?.finish();
    await tick();
    expect(inner.sends.map((s) => s.keys)).toEqual([['a']]);
  });
});
