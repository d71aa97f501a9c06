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
import { deliveryStore, type DeliveryStore } from './store/deliveries.js';
import { loadDispatchConfig } from './dispatch/config.js';
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher.js';
import { resolveTokens, type Tokens } from './tokens.js';
import type { Logger } from './logger.js';
import { createMetrics, registerDeliveryMetrics, type DeliveryMetrics, type DeliveryStats, type Metrics } from './metrics.js';

export type AppContext = {
  config: Config;
  tokens: Tokens;
  logger: Logger;
  db: Db;
  committer: GroupCommitter;
  events: EventStore;
  rejections: RejectionStore;
  deliveries: DeliveryStore;
  /** Present when CONFIG_FILE names handlers; without it events are stored and not dispatched. */
  dispatch?: Dispatcher;
  metrics: Metrics;
  deliveryMetrics: DeliveryMetrics;
  search: SearchStore;
  queries: EventQueries;
  stats: StatsStore;
};

/** The delivery gauges, read at scrape time from the deliveries table's (status, handler) index. */
function deliveryStats(deliveries: DeliveryStore): DeliveryStats {
  const byHandlerAndStatus = deliveries.countsByHandlerStatus();
  const total = (...statuses: string[]) =>
    byHandlerAndStatus.filter((row) => statuses.includes(row.status)).reduce((sum, row) => sum + row.count, 0);
  const pending = total('pending', 'failed');
  return {
    byHandlerAndStatus,
    pending,
    dead: total('dead'),
    oldestPendingAgeSeconds: pending > 0 ? deliveries.oldestPendingAgeMs() / 1000 : null,
  };
}

export function dbPath(config: Config): string {
  return join(config.dataDir, DB_FILE);
}

export function createContext(config: Config, logger: Logger): AppContext {
  // Read before the database is opened: a bad config file stops the process with nothing half-started.
  const dispatchConfig = config.configFile ? loadDispatchConfig(config.configFile) : undefined;
  const tokens = resolveTokens(config.dataDir, config);
  const db = openDb(dbPath(config), { synchronous: config.dbSynchronous, busyTimeoutMs: config.dbBusyTimeoutMs });
  const deliveries = deliveryStore(db);
  const metrics = createMetrics({ dbPath: dbPath(config) });
  const queries = eventQueries(db);
  return {
    config,
    tokens,
    logger,
    db,
    committer: new GroupCommitter(db),
    events: eventStore(db),
    rejections: rejectionStore(db, { max: config.rejectionsMax }),
    deliveries,
    dispatch: dispatchConfig ? createDispatcher(dispatchConfig, deliveries) : undefined,
    metrics,
    deliveryMetrics: registerDeliveryMetrics(metrics.registry, () => deliveryStats(deliveries)),
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
