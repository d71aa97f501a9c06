// The outbox worker: claims due deliveries under a lease, runs them under a per-handler cap and timeout, records every
// attempt, and returns the deliveries of workers that died (expired leases) to pending.
import type { AppContext } from '../context.js';
import type { Logger } from '../logger.js';
import { toEventJson } from '../api/event-json.js';
import type { ClaimedDelivery } from '../store/storage.js';
import type { HandlerConfig } from './config.js';
import type { DispatchEvent, Handler, HandlerContext, HandlerResult } from './handler.js';
import { handlerTypes } from './handlers/index.js';
import { decide, defaultRetryPolicy, type Decision, type RetryPolicy } from './retry.js';

export const DEFAULT_STOP_GRACE_MS = 5000;
/** The longest the worker sleeps without looking: covers writes from another process and leases running out. */
const IDLE_POLL_MS = 2000;
/** A claim outlives the handler's timeout by this much (or 10% of it, if more), so recording the outcome fits in it. */
export const LEASE_MARGIN_MS = 5000;

/** How long a claim holds before the reaper may hand the delivery to another worker. */
export function leaseMs(timeoutMs: number): number {
  return timeoutMs + Math.max(LEASE_MARGIN_MS, Math.round(timeoutMs * 0.1));
}

type Running = { config: HandlerConfig; handler: Handler; active: number };

export type Worker = {
  /** Builds the handlers (loading `module` files), then starts polling. */
  start(): Promise<void>;
  /** Stops claiming; lets running attempts finish for up to `graceMs`, then aborts them (they stay pending). */
  stop(graceMs?: number): Promise<void>;
  /** Looks for due deliveries now. */
  wake(): void;
  /** How many attempts are running right now. */
  active(): number;
};

const aborted = (signal: AbortSignal) =>
  new Promise<HandlerResult>((resolve) => {
    const settle = () => resolve({ ok: false, error: signal.reason instanceof Error ? signal.reason.message : 'aborted' });
    if (signal.aborted) settle();
    else signal.addEventListener('abort', settle, { once: true });
  });

export function createWorker(ctx: AppContext): Worker {
  const handlers = new Map<string, Running>();
  const inflight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  let policy: RetryPolicy = defaultRetryPolicy();
  const logger: Logger = ctx.logger.child({ component: 'dispatch' });
  const storage = ctx.storage;
  let timer: NodeJS.Timeout | undefined;
  let wakeScheduled = false;
  let pumping: Promise<void> | undefined;
  let pumpAgain = false;
  let unsubscribe: (() => void) | undefined;
  let closing = false;

  const loadEvent = async (seq: number): Promise<DispatchEvent | undefined> => {
    const row = await storage.getEvent(seq);
    return row ? { ...toEventJson(row), raw: row.raw } : undefined;
  };

  /** An event to its handler, or an alert's notification to a notify handler: one delivery mechanism for both. */
  async function deliverOne(running: Running, delivery: ClaimedDelivery, handlerCtx: HandlerContext): Promise<HandlerResult> {
    if (delivery.alertId !== null) {
      const alert = await storage.getAlert(delivery.alertId);
      if (!alert) return { ok: false, permanent: true, error: `alert ${delivery.alertId} no longer exists` };
      if (!running.handler.deliverAlert) return { ok: false, permanent: true, error: `a ${running.config.type} handler cannot send alerts` };
      return running.handler.deliverAlert({ alert, action: delivery.alertAction ?? 'trigger', key: storage.alertKey(alert.id) }, handlerCtx);
    }
    const event = delivery.eventSeq === null ? undefined : await loadEvent(delivery.eventSeq);
    if (!event) return { ok: false, permanent: true, error: `event ${delivery.eventId} no longer exists` };
    return running.handler.deliver(event, handlerCtx);
  }

  async function attempt(running: Running, delivery: ClaimedDelivery): Promise<void> {
    const { config } = running;
    const about = delivery.alertId === null ? { eventId: delivery.eventId } : { alertId: delivery.alertId };
    const log = logger.child({ handler: config.name, deliveryId: delivery.id, ...about, attempt: delivery.attempt });
    // One controller per attempt, aborted by its own deadline or by stop() (no AbortSignal.any: it leaks on Node 20).
    const abort = new AbortController();
    const signal = abort.signal;
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error(`timed out after ${config.timeoutMs} ms`));
    }, config.timeoutMs);
    controllers.add(abort);
    const started = Date.now();
    let result: HandlerResult;
    try {
      const handlerCtx = { signal, logger: log, attempt: delivery.attempt, deliveryId: delivery.id, handler: config.name, state: delivery.state };
      result = await Promise.race([deliverOne(running, delivery, handlerCtx), aborted(signal)]);
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(deadline);
      controllers.delete(abort);
    }
    // Aborted by stop() rather than by its deadline: not the remote's fault, so it runs again at the next start.
    const interrupted = !result.ok && signal.aborted && !timedOut;
    await record(delivery, result, Date.now() - started, interrupted ? undefined : decide(result, delivery.attempt, policy, { manual: delivery.manual }), log);
  }

  /** Closes the attempt and moves the delivery on; `decision` undefined means interrupted (back to pending, due now). */
  async function record(delivery: ClaimedDelivery, result: HandlerResult, durationMs: number, decision: Decision | undefined, log: Logger): Promise<void> {
    const now = Date.now();
    let recorded: boolean;
    try {
      recorded = await storage.recordAttempt(
        {
          deliverySeq: delivery.seq,
          attemptId: delivery.attemptId,
          claimToken: delivery.claimToken,
          durationMs,
          outcome: decision === undefined ? 'interrupted' : result.ok ? 'succeeded' : 'failed',
          statusCode: result.statusCode,
          error: result.error,
          response: result.response,
          externalId: result.externalId,
          state: result.state,
          next:
            decision === undefined
              ? { status: 'pending', dueAt: now }
              : decision.status === 'failed'
                ? { status: 'failed', dueAt: now + decision.delayMs }
                : { status: decision.status },
        },
        now,
      );
    } catch (error) {
      // The delivery stays 'running' in the database until its lease runs out; then the reaper puts it back.
      log.error({ err: error }, 'could not record a delivery attempt');
      return;
    }
    if (!recorded) {
      // The lease ran out and the reaper (here or on another replica) gave the delivery to someone else: their result counts.
      log.warn({ durationMs }, 'delivery attempt finished after its claim was lost; its outcome is not recorded');
      return;
    }
    ctx.deliveryMetrics.attemptFinished(delivery.handler, decision === undefined ? 'interrupted' : result.ok ? 'succeeded' : 'failed');
    const { statusCode, error } = result;
    if (result.ok) log.info({ durationMs, statusCode, externalId: result.externalId }, 'delivered');
    else if (decision?.status === 'failed') log.warn({ durationMs, statusCode, error, retryInMs: decision.delayMs }, 'delivery failed; will retry');
    else if (decision?.status === 'dead') log.error({ durationMs, statusCode, error }, 'delivery failed; giving up (dead)');
    else log.warn({ durationMs }, 'delivery interrupted by shutdown; left pending');
  }

  function launch(running: Running, delivery: ClaimedDelivery): void {
    running.active += 1;
    const task = attempt(running, delivery).finally(() => {
      running.active -= 1;
      inflight.delete(task);
      wake();
    });
    inflight.add(task);
  }

  /** One pass: reap expired leases, claim what is due for every handler with room, sleep until the next due time. */
  async function poll(): Promise<void> {
    clearTimeout(timer);
    try {
      const reaped = await storage.reapExpiredLeases();
      if (reaped > 0) logger.warn({ count: reaped }, 'deliveries whose worker stopped mid-attempt (lease expired) will run again');
      for (const running of handlers.values()) {
        if (closing) return;
        // A cheap local check first; the storage applies the cap across every replica.
        if (running.active >= running.config.concurrency) continue;
        const claimed = await storage.claimDue({
          handler: running.config.name,
          concurrency: running.config.concurrency,
          leaseMs: leaseMs(running.config.timeoutMs),
          unlessFollowedBy: running.config.unlessFollowedBy,
        });
        for (const delivery of claimed) launch(running, delivery);
      }
      const withRoom = [...handlers.values()].filter((running) => running.active < running.config.concurrency).map((running) => running.config.name);
      const due = await storage.nextDueAt(withRoom);
      const wait = due === undefined ? IDLE_POLL_MS : Math.min(Math.max(due - Date.now(), 0), IDLE_POLL_MS);
      if (!closing) timer = setTimeout(wake, wait);
    } catch (error) {
      logger.error({ err: error }, 'dispatch worker could not read the outbox; trying again shortly');
      if (!closing) timer = setTimeout(wake, IDLE_POLL_MS);
    }
  }

  /** Runs one poll at a time; a wake during a poll runs another right after it. */
  function pump(): void {
    wakeScheduled = false;
    if (closing) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = poll().finally(() => {
      pumping = undefined;
      if (pumpAgain) {
        pumpAgain = false;
        wake();
      }
    });
  }

  function wake(): void {
    if (wakeScheduled || closing) return;
    wakeScheduled = true;
    setImmediate(pump);
  }

  return {
    async start() {
      const dispatch = ctx.dispatch;
      if (!dispatch) {
        logger.info('no CONFIG_FILE: events are stored but not dispatched to any handler');
        return;
      }
      policy = dispatch.config.retry;
      for (const config of dispatch.config.handlers) {
        const handler = await handlerTypes[config.type].create(config.options, {
          name: config.name,
          logger: logger.child({ handler: config.name }),
          configDir: dispatch.config.dir,
          maskPii: ctx.config.logMaskPii,
        });
        handlers.set(config.name, { config, handler, active: 0 });
      }
      // Only a module can lack deliverAlert (the config admits no other such type in alerts.notify): refuse it now
      // rather than let every alert to it go dead.
      for (const name of dispatch.config.alerts?.notify ?? []) {
        if (!handlers.get(name)?.handler.deliverAlert) throw new Error(`handler ${name} is named in alerts.notify but has no deliverAlert(notice, ctx)`);
      }
      const waiting = new Map<string, number>();
      for (const row of (await storage.backlog()).byHandlerAndStatus) {
        if (row.status === 'pending' || row.status === 'failed') waiting.set(row.handler, (waiting.get(row.handler) ?? 0) + row.count);
      }
      for (const [name, count] of waiting) {
        if (!handlers.has(name)) logger.warn({ handler: name, count }, 'deliveries wait for a handler that is no longer in the config file');
      }
      unsubscribe = storage.onDeliveriesDue(wake);
      logger.info({ handlers: dispatch.config.handlers.map((handler) => `${handler.name} (${handler.type})`), file: dispatch.config.file }, 'dispatching events');
      wake();
    },

    async stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      closing = true;
      unsubscribe?.();
      clearTimeout(timer);
      await pumping;
      clearTimeout(timer);
      const all = () => Promise.allSettled([...inflight]);
      if (inflight.size > 0) {
        let graceTimer: NodeJS.Timeout | undefined;
        await Promise.race([all(), new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
        clearTimeout(graceTimer);
      }
      for (const controller of controllers) controller.abort(new Error('shutting down'));
      clearTimeout(timer);
      // Aborted attempts settle at once (the race above), recording themselves as interrupted.
      await all();
    },

    wake,
    active: () => inflight.size,
  };
}
