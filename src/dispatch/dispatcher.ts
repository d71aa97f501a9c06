// Delivery planning, called inside the event's own transaction: one delivery per matching handler, escalations cancelled.
import type { EventType } from '../chatlio/index.js';
import type { DeliveryStore } from '../store/deliveries.js';
import type { DispatchConfig, HandlerConfig } from './config.js';
import { matchesRule } from './rules.js';

export type PlannedEvent = {
  seq: number;
  type: EventType;
  payload: unknown;
  conversationUUID: string | null;
  receivedAt: number;
};

export type Dispatcher = ReturnType<typeof createDispatcher>;

export function createDispatcher(config: DispatchConfig, deliveries: DeliveryStore) {
  const listeners = new Set<() => void>();
  let notifyScheduled = false;
  const byName = new Map(config.handlers.map((handler) => [handler.name, handler]));

  // Runs after the current turn, so after the group commit that holds the new rows: the worker then finds them.
  const notify = () => {
    if (notifyScheduled || listeners.size === 0) return;
    notifyScheduled = true;
    setImmediate(() => {
      notifyScheduled = false;
      for (const listener of listeners) listener();
    });
  };

  const createFor = (handler: HandlerConfig, event: PlannedEvent, now: number, dueAt: number) =>
    deliveries.create(
      {
        eventSeq: event.seq,
        handler: handler.name,
        dueAt,
        conversationUUID: handler.unlessFollowedBy.length > 0 ? event.conversationUUID : null,
      },
      now,
    );

  return {
    config,
    handler: (name: string) => byName.get(name),

    /** Must run in the transaction that stores the event; a duplicate event must not be planned again. */
    plan(event: PlannedEvent): number {
      let created = 0;
      for (const handler of config.handlers) {
        if (!matchesRule(handler, event.type, event.payload)) continue;
        createFor(handler, event, event.receivedAt, event.receivedAt + handler.delayMs);
        created += 1;
      }
      if (event.conversationUUID) {
        for (const handler of config.handlers) {
          if (!handler.unlessFollowedBy.includes(event.type)) continue;
          deliveries.cancelEscalations({ handler: handler.name, conversationUUID: event.conversationUUID, bySeq: event.seq });
        }
      }
      if (created > 0) notify();
      return created;
    },

    /** For a redelivery: creates the deliveries a handler would have made had it existed when the event arrived. */
    planMissing(event: PlannedEvent, only?: string, now = Date.now()): number {
      const existing = new Set(deliveries.forEvent(event.seq).map((delivery) => delivery.handler));
      let created = 0;
      for (const handler of config.handlers) {
        if (existing.has(handler.name) || (only !== undefined && handler.name !== only)) continue;
        if (only === undefined && !matchesRule(handler, event.type, event.payload)) continue;
        createFor(handler, event, now, now);
        created += 1;
      }
      return created;
    },

    /** Wakes the worker now (after new or redelivered deliveries). */
    notify,

    onDue(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
