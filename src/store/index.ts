// Opens the storage the configuration asks for: the one place that chooses a backend.
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Storage } from './storage.js';
import { DB_FILE, openSqliteStorage } from './sqlite/index.js';

export type { Storage } from './storage.js';

/** The SQLite file inside DATA_DIR. */
export function sqlitePath(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, DB_FILE);
}

export async function openStorage(config: Config, logger: Logger): Promise<Storage> {
  // The PostgreSQL backend adds its case here: `if (config.databaseUrl) return openPostgresStorage(...)`.
  const path = sqlitePath(config);
  logger.debug({ backend: 'sqlite', path }, 'opening storage');
  return openSqliteStorage({
    path,
    synchronous: config.dbSynchronous,
    busyTimeoutMs: config.dbBusyTimeoutMs,
    rejectionsMax: config.rejectionsMax,
    logger,
  });
}
