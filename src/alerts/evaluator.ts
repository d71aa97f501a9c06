// Alert evaluation: on one replica at a time (the 'alerts' singleton), every ALERT_INTERVAL_MS, opens an alert for
// each condition that newly holds and resolves those that cleared. The alerts table is the state, so a restart or
// another replica carries on where this one stopped, and each episode notifies once.
import type { AppContext } from '../context.js';
import { baseUrl } from '../urls.js';
import type { Alert } from '../store/storage.js';
import { wantedAlerts } from './conditions.js';

export const ALERT_INTERVAL_MS = 20_000;

const keyOf = (alert: { kind: string; subject: string }) => `${alert.kind}\u0000${alert.subject}`;

export type Evaluation = { opened: Alert[]; resolved: Alert[] };

/**
 * One evaluation; undefined when alerts are not configured or another replica is evaluating. Opening is
 * deduplicated by the storage, so two evaluations that race never notify twice.
 */
export async function evaluateAlerts(ctx: AppContext, now: number, watchingSince: number): Promise<Evaluation | undefined> {
  const config = ctx.dispatch?.config;
  const rules = config?.alerts;
  if (!config || !rules) return undefined;
  return ctx.storage.singleton('alerts', async () => {
    const open = await ctx.storage.openAlerts();
    const wanted = await wantedAlerts({ storage: ctx.storage, rules, handlers: config.handlers, baseUrl: baseUrl(ctx.config).url, now, watchingSince, open });
    const openKeys = new Set(open.map(keyOf));
    const wantedKeys = new Set(wanted.map(keyOf));
    const opened: Alert[] = [];
    const resolved: Alert[] = [];
    for (const alert of wanted) {
      if (openKeys.has(keyOf(alert))) continue;
      const created = await ctx.storage.openAlert(alert, rules.notify, now);
      if (created) opened.push(created);
    }
    for (const alert of open) {
      if (wantedKeys.has(keyOf(alert))) continue;
      const done = await ctx.storage.resolveAlert(alert.id, rules.notify, now);
      if (done) resolved.push(done);
    }
    return { opened, resolved };
  });
}

export type AlertJob = { stop: () => Promise<void> };

/** Evaluates at start and every `intervalMs`; does nothing when the config file has no alerts section. */
export function startAlerts(ctx: AppContext, options: { intervalMs?: number; clock?: () => number } = {}): AlertJob {
  const clock = options.clock ?? Date.now;
  if (!ctx.dispatch?.config.alerts) return { stop: async () => {} };
  const log = ctx.logger.child({ component: 'alerts' });
  const watchingSince = clock();
  let running: Promise<void> | undefined;
  const run = () => {
    // The last evaluation is still going (a slow database): the next tick will do.
    running ??= evaluateAlerts(ctx, clock(), watchingSince)
      .then((result) => {
        for (const alert of result?.opened ?? []) log.warn({ alertId: alert.id, kind: alert.kind, subject: alert.subject }, alert.detail.summary);
        for (const alert of result?.resolved ?? []) log.info({ alertId: alert.id, kind: alert.kind, subject: alert.subject }, `resolved: ${alert.detail.summary}`);
      })
      .catch((error: unknown) => log.error({ err: error }, 'alert evaluation failed; trying again at the next interval'))
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, options.intervalMs ?? ALERT_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
