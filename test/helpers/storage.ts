// The one seam where tests get their storage: SQLite in a temp DATA_DIR, or with TEST_BACKEND=postgres an empty
// PostgreSQL database of its own, so every suite built on it runs against either backend (vitest.config.ts runs both).
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import type { Storage } from '../../src/store/storage.js';
import type { Logger } from '../../src/logger.js';
import { DB_FILE, openSqliteStorage, type SqliteStorage } from '../../src/store/sqlite/index.js';
import { openTestStorage, recycledDatabase } from './postgres.js';

export const TEST_BACKEND = process.env.TEST_BACKEND ?? 'sqlite';
if (TEST_BACKEND !== 'sqlite' && TEST_BACKEND !== 'postgres') throw new Error(`TEST_BACKEND must be sqlite or postgres, not ${TEST_BACKEND}`);

/** The storage settings of a Config; only dataDir is required. */
export type TestStorageOptions = Pick<Config, 'dataDir'> & Partial<Pick<Config, 'dbSynchronous' | 'dbBusyTimeoutMs' | 'rejectionsMax'>>;

export async function testStorage(options: TestStorageOptions, logger?: Logger): Promise<Storage> {
  if (TEST_BACKEND === 'postgres') {
    const database = await recycledDatabase(options.dataDir);
    let storage: Storage;
    try {
      storage = await openTestStorage(database.url, { rejectionsMax: options.rejectionsMax ?? 10_000 });
    } catch (error) {
      database.release();
      throw error;
    }
    // Idempotent, as tests close an app and then its context: the pool refuses a second end().
    const close = storage.close.bind(storage);
    let closed: Promise<void> | undefined;
    storage.close = () => (closed ??= close().finally(database.release));
    return storage;
  }
  return openSqliteStorage({
    path: join(options.dataDir, DB_FILE),
    synchronous: options.dbSynchronous ?? 'full',
    busyTimeoutMs: options.dbBusyTimeoutMs ?? 5000,
    rejectionsMax: options.rejectionsMax ?? 10_000,
    logger,
  });
}

// A server process keeps its database across a restart on the same DATA_DIR (crash and restart tests), and finds
// what a test app stored for the same DATA_DIR before it.
const serverDatabases = new Map<string, Promise<string>>();

/**
 * Environment for a real server process (test/helpers/server.ts) on `dataDir` to use the backend under test: SQLite
 * needs none; PostgreSQL gets the DATABASE_URL of an empty database, the same one each time for the same DATA_DIR.
 */
export async function testBackendEnv(dataDir: string): Promise<Record<string, string>> {
  if (TEST_BACKEND === 'sqlite') return {};
  let url = serverDatabases.get(dataDir);
  if (!url) {
    url = recycledDatabase(dataDir).then((database) => database.url);
    serverDatabases.set(dataDir, url);
  }
  return { DATABASE_URL: await url };
}

/** For tests of SQLite-specific behaviour (WAL frames, disk full, read-only): the SQLite storage, or a clear failure. */
export function sqliteOf(storage: Storage): SqliteStorage {
  if (storage.backend !== 'sqlite') throw new Error('this test is about SQLite itself');
  return storage as SqliteStorage;
}
