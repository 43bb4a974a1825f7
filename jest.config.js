/** Jest runs TypeScript through SWC (no type-check on the hot path; `npm run build` type-checks). */

// The AWS SDK's notice that its 2027 releases need Node 22 is eight lines from every test file that loads it
// (a third of a CI run's output); the workers inherit this.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // hyparquet-writer (the sink's Parquet encoder) ships ES modules only; Jest on Node 20 needs CommonJS.
    '/node_modules/hyparquet(-writer)?/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  testTimeout: 60_000,
  // One real Kafka broker and AWS emulator for the whole run (started unless scripts/test.sh already did).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
