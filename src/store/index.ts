// Opens the storage the configuration asks for: the one place that chooses a backend.
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Storage } from './storage.js';
import { DB_FILE, openSqliteStorage } from './sqlite/index.js';
import { openPostgresStorage } from './postgres/index.js';
import { describeUrl } from './postgres/connection.js';

export type { Storage } from './storage.js';

/** The SQLite file inside DATA_DIR. */
export function sqlitePath(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, DB_FILE);
}

export async function openStorage(config: Config, logger: Logger): Promise<Storage> {
  if (config.databaseUrl) {
    // Never the URL itself in a log line: it carries the password.
    logger.debug({ backend: 'postgres', database: describeUrl(config.databaseUrl) }, 'opening storage');
    return openPostgresStorage({
      url: config.databaseUrl,
      poolSize: config.pgPoolSize,
      statementTimeoutMs: config.pgStatementTimeoutMs,
      rejectionsMax: config.rejectionsMax,
      logger,
    });
  }
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
