import { defineConfig } from 'vitest/config';

// The whole suite runs twice, once per storage backend (test/helpers/storage.ts reads TEST_BACKEND). The lists below
// are the only differences between the two runs, each file with its reason.

/** About SQLite itself: not run against PostgreSQL. */
const SQLITE_ONLY: Record<string, string> = {
  'test/store/group-commit.test.ts': "SQLite's synchronous group commit internals",
  'test/cli/backup.test.ts': "SQLite's online backup (on PostgreSQL `backup` answers with pg_dump: test/cli/postgres.test.ts)",
  'test/e2e/crash.test.ts': 'reads the SQLite file after kill -9 (PostgreSQL: kill -9 in test/e2e/replicas.test.ts)',
  'test/health.test.ts': 'makes the database read-only with PRAGMA query_only',
  'test/ingest/limits.test.ts': "disk full through max_page_count, a lock held by another SQLite connection",
  'test/api/erasure.test.ts': 'counts full-text and tag rows with SQLite SQL (erasure itself: the conformance suite)',
  'test/dispatch/erasure.test.ts': 'counts delivery and attempt rows with SQLite SQL (erasure itself: the conformance suite)',
  'test/startup.test.ts': 'tokens generated into DATA_DIR, and a SQLite file with a newer schema (PostgreSQL: test/store/postgres.test.ts)',
  'test/e2e/banner.test.ts': 'the first-start banner of tokens generated into DATA_DIR (PostgreSQL takes them from the environment)',
  'test/e2e/file-modes.test.ts': 'modes of the SQLite file, its -wal/-shm and backups in DATA_DIR (PostgreSQL writes nothing there)',
  'test/e2e/damaged-start.test.ts': "start-up checks of the SQLite file's identity and health beside DATA_DIR",
  'test/damaged-database.test.ts': 'damages pages of the SQLite file',
  'test/readiness-disk-full.test.ts': 'fills the disk under the SQLite file (max_page_count, a small tmpfs)',
  'test/e2e/disk-full.test.ts': 'fills a small tmpfs and ext4 under the SQLite file (PostgreSQL keeps its data elsewhere)',
};

/** About PostgreSQL itself: several storages (replicas) on one database. */
const POSTGRES_ONLY: Record<string, string> = {
  'test/store/postgres.test.ts': 'claims, leases, NOTIFY and migrations across several pools on one database',
  'test/cli/postgres.test.ts': 'DATABASE_URL at start-up and in the CLI',
  'test/e2e/replicas.test.ts': 'three server processes on one database',
  'test/store/ids-postgres.test.ts': 'ids of two fresh PostgreSQL databases',
  'test/cli/copy-to-postgres.test.ts': 'copies a SQLite file into PostgreSQL',
  'test/alerts/replicas.test.ts': 'two replicas evaluating alerts on one database',
  'test/store/alerts.test.ts': 'runs the alert storage on both backends itself (and migrates a version-4 SQLite file), so it needs the PostgreSQL server',
};

/** Never open a storage (pure functions, the repository's files, the CLI's help): one run is enough. */
const BACKEND_INDEPENDENT: Record<string, string> = {
  'test/chatlio/summary.test.ts': 'pure function',
  'test/text.test.ts': 'pure function',
  'test/config.test.ts': 'reads an environment object',
  'test/dispatch/rules.test.ts': 'pure function',
  'test/dispatch/visitor-email.test.ts': 'pure function',
  'test/dispatch/env-defaults.test.ts': 'reads the handlers configuration',
  'test/dispatch/docs-examples.test.ts': 'reads the docs',
  'test/cli/help.test.ts': 'prints help',
  'test/repo/install.test.ts': 'builds better-sqlite3 from source',
  'test/repo/profiles.test.ts': 'reads the repository',
  'test/scripts/dockerfile.test.ts': 'reads the Dockerfile',
};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', exclude: Object.keys(POSTGRES_ONLY), env: { TEST_BACKEND: 'sqlite' } },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          exclude: [...Object.keys(SQLITE_ONLY), ...Object.keys(BACKEND_INDEPENDENT)],
          env: { TEST_BACKEND: 'postgres' },
          // A PostgreSQL server for the run (PG_TEST_URL or a throwaway cluster): see test/helpers/postgres-setup.ts.
          // Without one the project fails in one line; it is never skipped.
          globalSetup: ['test/helpers/postgres-setup.ts'],
        },
      },
    ],
  },
});
