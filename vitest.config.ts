import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other: unit tests in parallel, then integration and end-to-end
 * tests one file at a time. The latter start real clusters and time failovers against bounds
 * (200 ms after a crash); two clusters sharing 2 cores would measure each other, not FaultLab.
 */
export default defineConfig({
  test: {
    environment: 'node',
    // Forks, not threads: tests spawn processes and touch process-wide state (signals, cwd, env).
    pool: 'forks',
    testTimeout: 60_000,
    // One line per test, so a CI log shows exactly what ran (the default reporter folds passing files).
    reporters: ['verbose'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
