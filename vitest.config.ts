import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Forks, not threads: tests spawn processes and touch process-wide state (signals, cwd, env).
    pool: 'forks',
    testTimeout: 60_000,
    // One line per test, so a CI log shows exactly what ran (the default reporter folds passing files).
    reporters: ['verbose'],
  },
});
