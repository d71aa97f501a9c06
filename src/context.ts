// One context (config, tokens, db, stores, logger) built once and handed to the HTTP app, the worker and the CLI alike.
import { join } from 'node:path';
import type { Config } from './config.js';
import { DB_FILE, openDb, type Db } from './store/db.js';
import { eventStore, type EventStore } from './store/events.js';
import { rejectionStore, type RejectionStore } from './store/rejections.js';
import { searchStore, type SearchStore } from './store/search.js';
import { eventQueries, type EventQueries } from './store/event-queries.js';
import { statsStore, type StatsStore } from './store/stats.js';
import { GroupCommitter } from './store/group-commit.js';
import { resolveTokens, type Tokens } from './tokens.js';
import type { Logger } from './logger.js';

export type AppContext = {
  config: Config;
  tokens: Tokens;
  logger: Logger;
  db: Db;
  committer: GroupCommitter;
  events: EventStore;
  rejections: RejectionStore;
  search: SearchStore;
  queries: EventQueries;
  stats: StatsStore;
};

export function dbPath(config: Config): string {
  return join(config.dataDir, DB_FILE);
}

export function createContext(config: Config, logger: Logger): AppContext {
  const tokens = resolveTokens(config.dataDir, config);
  const db = openDb(dbPath(config), { synchronous: config.dbSynchronous, busyTimeoutMs: config.dbBusyTimeoutMs });
  const queries = eventQueries(db);
  return {
    config,
    tokens,
    logger,
    db,
    committer: new GroupCommitter(db),
    events: eventStore(db),
    rejections: rejectionStore(db, { max: config.rejectionsMax }),
    search: searchStore(db),
    queries,
    stats: statsStore(db, queries),
  };
}

/** Commits anything queued and closes the database. */
export function closeContext(ctx: AppContext): void {
  ctx.committer.flush();
  if (ctx.db.open) ctx.db.close();
}
