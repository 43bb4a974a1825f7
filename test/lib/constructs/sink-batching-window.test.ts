import { batchingWindow, KAFKA_DEFAULT_BATCHING_WINDOW_SECONDS } from '../../../lib/constructs/sink';

describe("the sink mappings' batching window", () => {
  it("is left to Lambda's default for Kafka (0.5 s), which CloudFormation's whole seconds cannot spell", () => {
    expect(batchingWindow(KAFKA_DEFAULT_BATCHING_WINDOW_SECONDS)).toBeUndefined();
  });

  it('is whole seconds from 0 to 300 otherwise', () => {
    expect(batchingWindow(0)?.toSeconds()).toBe(0);
    expect(batchingWindow(1)?.toSeconds()).toBe(1);
    expect(batchingWindow(300)?.toSeconds()).toBe(300);
  });

  it('refuses what the mapping cannot take, saying what it can', () => {
    for (const seconds of [0.2, 1.5, -1, 301]) {
      expect(() => batchingWindow(seconds)).toThrow(/whole seconds from 0 to 300, or 0\.5/);
    }
  });
});
