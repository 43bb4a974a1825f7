/**
 * kafkajs 2.2.4's fetch manager (patches/kafkajs+2.2.4.patch): a consumer stopped while it rebalances its
 * fetchers (a broker of the cluster gone or back, as in `npm run chaos`) must stop fetching. Unpatched, the
 * manager started new fetchers after the stop; their runner, stopped, answers each fetch with nothing at
 * once, so they looped on promises alone, 100 % of a core, and no timer or signal of the process ever ran
 * again: a mapping poller that no SIGTERM could stop (the bounded chaos test hung so once in 24 runs).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// Runs in its own process: a starved event loop cannot be observed from inside it.
const SCENARIO = `
const createFetchManager = require('kafkajs/src/consumer/fetchManager');
const { KafkaJSFetcherRebalanceError } = require('kafkajs/src/errors');
const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
let running = true;
let calls = 0;
const manager = createFetchManager({
  logger,
  getNodeIds: () => [1],
  handler: async () => {},
  fetch: async () => {
    calls += 1;
    if (!running) return []; // what Runner.fetch answers once its runner has stopped
    // The runner stops (consumer.disconnect) just as the fetchers must be rebalanced.
    running = false;
    manager.stop();
    throw new KafkaJSFetcherRebalanceError();
  },
});
manager.start().catch(() => {});
setTimeout(() => { process.stdout.write(JSON.stringify({ calls })); process.exit(0); }, 200);
`;

test('a consumer stopped while its fetchers rebalance stops fetching, leaving its event loop free', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', SCENARIO], { timeout: 10_000 }).catch(
    (error: Error & { killed?: boolean }) => {
      throw new Error(
        error.killed
          ? 'the fetchers of a stopped consumer starved its event loop (no timer ran in 10 s)'
          : error.message,
      );
    },
  );
  // The fetch that saw the stop, and none after it.
  expect(JSON.parse(stdout)).toEqual({ calls: 1 });
});
