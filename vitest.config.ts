import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A PostgreSQL server for the run (PG_TEST_URL or a throwaway cluster): see test/helpers/postgres-setup.ts.
    globalSetup: ['test/helpers/postgres-setup.ts'],
  },
});
