// The outbox worker: claims due deliveries, runs them under a per-handler cap and timeout, records every attempt.
import type { AppContext } from '../context.js';
import type { Logger } from '../logger.js';
import { toEventJson } from '../api/event-json.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import type { HandlerConfig } from './config.js';
import type { DispatchEvent, Handler, HandlerResult } from './handler.js';
import { handlerTypes } from './handlers/index.js';
import { decide, defaultRetryPolicy, type Decision, type RetryPolicy } from './retry.js';

export const DEFAULT_STOP_GRACE_MS = 5000;
/** The longest the worker sleeps without looking: covers writes from another process (e.g. a CLI redeliver). */
const IDLE_POLL_MS = 2000;

type Running = { config: HandlerConfig; handler: Handler; active: number };

export type Worker = {
  /** Builds the handlers (loading `module` files), puts back what a dead process left running, then starts. */
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
  let timer: NodeJS.Timeout | undefined;
  let wakeScheduled = false;
  let unsubscribe: (() => void) | undefined;
  let closing = false;

  const loadEvent = (seq: number): DispatchEvent | undefined => {
    const row = ctx.events.get(seq);
    return row ? { ...toEventJson(row), raw: row.raw } : undefined;
  };

  async function attempt(running: Running, delivery: ClaimedDelivery): Promise<void> {
    const { config } = running;
    const log = logger.child({ handler: config.name, deliveryId: delivery.id, eventId: delivery.eventId, attempt: delivery.attempt });
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
      const event = loadEvent(delivery.eventSeq);
      result = event
        ? await Promise.race([
            running.handler.deliver(event, {
              signal,
              logger: log,
              attempt: delivery.attempt,
              deliveryId: delivery.id,
              handler: config.name,
              state: delivery.state,
            }),
            aborted(signal),
          ])
        : { ok: false, permanent: true, error: `event ${delivery.eventId} no longer exists` };
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(deadline);
      controllers.delete(abort);
    }
    // Aborted by stop() rather than by its deadline: not the remote's fault, so it runs again at the next start.
    const interrupted = !result.ok && signal.aborted && !timedOut;
    record(delivery, result, Date.now() - started, interrupted ? undefined : decide(result, delivery.attempt, policy, { manual: delivery.manual }), log);
  }

  /** Closes the attempt and moves the delivery on; `decision` undefined means interrupted (back to pending, due now). */
  function record(delivery: ClaimedDelivery, result: HandlerResult, durationMs: number, decision: Decision | undefined, log: Logger): void {
    const now = Date.now();
    try {
      ctx.deliveries.recordAttempt(
        {
          deliverySeq: delivery.seq,
          attemptId: delivery.attemptId,
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
      // The delivery stays 'running' in the database and is put back at the next start.
      log.error({ err: error }, 'could not record a delivery attempt');
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

  function pump(): void {
    wakeScheduled = false;
    if (closing || !ctx.db.open) return;
    clearTimeout(timer);
    const now = Date.now();
    try {
      for (const running of handlers.values()) {
        const free = running.config.concurrency - running.active;
        if (free <= 0) continue;
        for (const delivery of ctx.deliveries.claimDue(running.config.name, free, now)) launch(running, delivery);
      }
      const withRoom = [...handlers.values()].filter((running) => running.active < running.config.concurrency).map((running) => running.config.name);
      const due = ctx.deliveries.nextDueAt(withRoom);
      const wait = due === undefined ? IDLE_POLL_MS : Math.min(Math.max(due - Date.now(), 0), IDLE_POLL_MS);
      timer = setTimeout(pump, wait);
    } catch (error) {
      logger.error({ err: error }, 'dispatch worker could not read the outbox; trying again shortly');
      timer = setTimeout(pump, IDLE_POLL_MS);
    }
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
      const recovered = ctx.deliveries.recoverInterrupted();
      if (recovered > 0) logger.warn({ count: recovered }, 'deliveries interrupted by the previous stop will run again');
      for (const [name, count] of ctx.deliveries.waitingByHandler()) {
        if (!handlers.has(name)) logger.warn({ handler: name, count }, 'deliveries wait for a handler that is no longer in the config file');
      }
      unsubscribe = dispatch.onDue(wake);
      logger.info({ handlers: dispatch.config.handlers.map((handler) => `${handler.name} (${handler.type})`), file: dispatch.config.file }, 'dispatching events');
      wake();
    },

    async stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      closing = true;
      unsubscribe?.();
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
