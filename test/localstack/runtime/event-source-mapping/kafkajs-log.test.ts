import { kafkajsLine } from '../../../../localstack/runtime/event-source-mapping/event-source-mapping';

describe("the mapping's kafkajs log lines", () => {
  it('carry the error kafkajs keeps apart from its message', () => {
    expect(
      kafkajsLine('Connection', {
        message: 'Response Fetch(key: 1, version: 11)',
        error: 'This server is not the leader for that topic-partition',
      }),
    ).toBe(
      'kafkajs Connection: Response Fetch(key: 1, version: 11): This server is not the leader for that topic-partition',
    );
    expect(kafkajsLine('Consumer', { message: 'Crash: KafkaJSNumberOfRetriesExceeded' })).toBe(
      'kafkajs Consumer: Crash: KafkaJSNumberOfRetriesExceeded',
    );
  });

  it('leave out a rebalancing group, which every poller joining or leaving causes', () => {
    expect(
      kafkajsLine('Connection', {
        message: 'Response Heartbeat(key: 12, version: 3)',
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
    ).toBeUndefined();
  });
});
