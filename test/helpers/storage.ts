// The one seam where tests get their storage: SQLite in a temp DATA_DIR today; TEST_BACKEND=postgres will open a
// fresh PostgreSQL schema here, so every suite built on it runs against either backend.
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import type { Storage } from '../../src/store/storage.js';
import type { Logger } from '../../src/logger.js';
import { DB_FILE, openSqliteStorage, type SqliteStorage } from '../../src/store/sqlite/index.js';

export const TEST_BACKEND = process.env.TEST_BACKEND ?? 'sqlite';

/** The storage settings of a Config; only dataDir is required. */
export type TestStorageOptions = Pick<Config, 'dataDir'> & Partial<Pick<Config, 'dbSynchronous' | 'dbBusyTimeoutMs' | 'rejectionsMax'>>;

export async function testStorage(options: TestStorageOptions, logger?: Logger): Promise<Storage> {
  if (TEST_BACKEND !== 'sqlite') throw new Error(`TEST_BACKEND=${TEST_BACKEND} is not wired in test/helpers/storage.ts yet`);
  return openSqliteStorage({
    path: join(options.dataDir, DB_FILE),
    synchronous: options.dbSynchronous ?? 'full',
    busyTimeoutMs: options.dbBusyTimeoutMs ?? 5000,
    rejectionsMax: options.rejectionsMax ?? 10_000,
    logger,
  });
}

/** Environment for a real server process (test/helpers/server.ts) to use the backend under test; SQLite needs none. */
export function testBackendEnv(): Record<string, string> {
  if (TEST_BACKEND !== 'sqlite') throw new Error(`TEST_BACKEND=${TEST_BACKEND} is not wired in test/helpers/storage.ts yet`);
  return {};
}

/** For tests of SQLite-specific behaviour (WAL frames, disk full, read-only): the SQLite storage, or a clear failure. */
export function sqliteOf(storage: Storage): SqliteStorage {
  if (storage.backend !== 'sqlite') throw new Error('this test is about SQLite itself');
  return storage as SqliteStorage;
}
