import { defineConfig } from 'vitest/config';

/** Benchmarks that need the test harness (real clusters): run as vitest files, one at a time. */
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.test.ts'],
    environment: 'node',
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 3_600_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
