// Delivery planning, pure: which handlers a new event goes to and which escalations it cancels. The store applies the
// plan in the event's own transaction.
import type { EventType } from '../chatlio/index.js';
import type { DeliveryPlan } from '../store/storage.js';
import type { DispatchConfig } from './config.js';
import { matchesRule } from './rules.js';

export type PlannedEvent = {
  type: EventType;
  payload: unknown;
  conversationUUID: string | null;
  receivedAt: number;
};

export type Dispatcher = ReturnType<typeof createDispatcher>;

export function createDispatcher(config: DispatchConfig) {
  const byName = new Map(config.handlers.map((handler) => [handler.name, handler]));

  return {
    config,
    handler: (name: string) => byName.get(name),

    /** One delivery per matching handler, due after its delay; the waiting escalations this event answers, cancelled. */
    plan(event: PlannedEvent): DeliveryPlan {
      const plan: DeliveryPlan = { create: [], cancel: [] };
      for (const handler of config.handlers) {
        if (!matchesRule(handler, event.type, event.payload)) continue;
        plan.create.push({
          handler: handler.name,
          dueAt: event.receivedAt + handler.delayMs,
          conversationUUID: handler.unlessFollowedBy.length > 0 ? event.conversationUUID : null,
        });
      }
      if (event.conversationUUID !== null) {
        for (const handler of config.handlers) {
          if (handler.unlessFollowedBy.includes(event.type)) plan.cancel.push({ handler: handler.name, conversationUUID: event.conversationUUID });
        }
      }
      return plan;
    },

    /**
     * For a redelivery: the handlers that would have had a delivery had they existed when the event arrived (or just
     * `only`, when named and configured), among those without one yet.
     */
    missing(event: PlannedEvent, existing: Iterable<string>, only?: string): string[] {
      const has = new Set(existing);
      return config.handlers
        .filter((handler) => !has.has(handler.name))
        .filter((handler) => (only === undefined ? matchesRule(handler, event.type, event.payload) : handler.name === only))
        .map((handler) => handler.name);
    },
  };
}
