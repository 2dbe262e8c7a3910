import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Capture tests spawn profiled Node processes; they are slow but not flaky.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
