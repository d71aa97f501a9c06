// One context (config, tokens, storage, logger) built once and handed to the HTTP app, the worker and the CLI alike.
import type { Config } from './config.js';
import { openStorage } from './store/index.js';
import type { Backlog, Storage } from './store/storage.js';
import { loadDispatchConfig } from './dispatch/config.js';
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher.js';
import { resolveTokens, type Tokens } from './tokens.js';
import type { Logger } from './logger.js';
import { createMetrics, registerDeliveryMetrics, type DeliveryMetrics, type DeliveryStats, type Metrics } from './metrics.js';

export type AppContext = {
  config: Config;
  tokens: Tokens;
  logger: Logger;
  storage: Storage;
  /** Present when CONFIG_FILE names handlers; without it events are stored and not dispatched. */
  dispatch?: Dispatcher;
  metrics: Metrics;
  deliveryMetrics: DeliveryMetrics;
};

/** The delivery gauges, read at scrape time from the backlog (waiting, running and dead rows only). */
export function deliveryStats(backlog: Backlog, now = Date.now()): DeliveryStats {
  const total = (...statuses: string[]) =>
    backlog.byHandlerAndStatus.filter((row) => statuses.includes(row.status)).reduce((sum, row) => sum + row.count, 0);
  const pending = total('pending', 'failed');
  const overdueMs = backlog.oldestDueAt !== null && backlog.oldestDueAt < now ? now - backlog.oldestDueAt : 0;
  return {
    byHandlerAndStatus: backlog.byHandlerAndStatus,
    pending,
    dead: total('dead'),
    oldestPendingAgeSeconds: pending > 0 ? overdueMs / 1000 : null,
  };
}

export async function createContext(config: Config, logger: Logger, options: { storage?: Storage } = {}): Promise<AppContext> {
  // Read before the database is opened: a bad config file stops the process with nothing half-started.
  const dispatchConfig = config.configFile ? loadDispatchConfig(config.configFile) : undefined;
  const tokens = resolveTokens(config.dataDir, config);
  const storage = options.storage ?? (await openStorage(config, logger));
  const metrics = createMetrics({ storage });
  return {
    config,
    tokens,
    logger,
    storage,
    dispatch: dispatchConfig ? createDispatcher(dispatchConfig) : undefined,
    metrics,
    deliveryMetrics: registerDeliveryMetrics(metrics.registry, async () => deliveryStats(await storage.backlog())),
  };
}

/** Commits anything queued and closes the storage. */
export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.storage.close();
}
