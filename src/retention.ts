// RETENTION_DAYS: deletes events older than the window in small batches, yielding between them so ingest never waits long,
// and the alerts resolved before it.
import type { AppContext } from './context.js';

export const RETENTION_BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes every event received more than `days` before `now`, RETENTION_BATCH per transaction, and returns how many
 * (undefined when another replica is already purging). On SQLite each batch joins ingest's group commit (one
 * transaction, one fsync); the event loop turns between batches. Alerts resolved before then go too, with their
 * notifications (an alert's deliveries have no event, so the events' purge never reaches them); open ones stay.
 */
export async function purgeExpired(ctx: AppContext, days: number, now: number = Date.now(), signal?: AbortSignal): Promise<number | undefined> {
  const cutoff = now - days * DAY_MS;
  return ctx.storage.singleton('retention', async () => {
    let removed = 0;
    while (!signal?.aborted) {
      const batch = await ctx.storage.deleteOlderThan(cutoff, RETENTION_BATCH);
      removed += batch;
      if (batch < RETENTION_BATCH) break;
      await nextTurn();
    }
    // Few rows (one per episode), so one statement.
    if (!signal?.aborted) await ctx.storage.deleteAlertsResolvedBefore(cutoff);
    return removed;
  });
}

export type RetentionJob = { stop: () => Promise<void> };

/** Runs the purge at start and hourly; does nothing when retention is not configured (keep forever). */
export function startRetention(ctx: AppContext, clock: () => number = Date.now): RetentionJob {
  const days = ctx.config.retentionDays;
  if (days === undefined) return { stop: async () => {} };
  const stopping = new AbortController();
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return; // the last purge is still going: the next hour will do
    running = purgeExpired(ctx, days, clock(), stopping.signal)
      .then((removed) => {
        if (removed !== undefined && removed > 0) ctx.logger.info({ removed, retentionDays: days }, 'expired events deleted');
      })
      .catch((error: unknown) => ctx.logger.error({ err: error }, 'retention purge failed; retrying in an hour'))
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, HOUR_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
