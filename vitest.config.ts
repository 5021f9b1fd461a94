import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          exclude: ['test/unit/renderer/**'],
          environment: 'node',
        },
      },
      {
        // The Svelte renderer's component tests: browser builds of Svelte in jsdom.
        plugins: [svelte({ configFile: false, compilerOptions: { css: 'external' } })],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'renderer',
          sequence: { groupOrder: 0 },
          include: ['test/unit/renderer/**/*.test.ts'],
          environment: 'jsdom',
          setupFiles: ['test/unit/renderer/setup.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          maxWorkers: 1,
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['engine/**/*.ts'],
      // Without it the test helpers under test/unit/engine/ were counted as engine/ code.
      exclude: ['test/**'],
      // json: coverage-final.json, which scripts/process-coverage.mjs merges with the child processes' coverage.
      reporter: ['text-summary', 'json-summary', 'json'],
      // A failed test still leaves the figures of everything else.
      reportOnFailure: true,
    },
  },
});
