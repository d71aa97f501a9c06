// NewEvent values built by hand, for tests that talk to the Storage interface directly (no HTTP, no schemas).
import { createHash } from 'node:crypto';
import type { EventType } from '../../src/chatlio/index.js';
import type { DeliveryPlan, NewEvent } from '../../src/store/storage.js';

let unique = 0;

export type EventSpec = {
  type?: EventType;
  receivedAt?: number;
  conversation?: string | null;
  visitorUUID?: string | null;
  email?: string | null;
  name?: string | null;
  rating?: 'up' | 'down' | null;
  text?: string;
  tags?: string[];
  firstResponseSeconds?: number;
  plan?: Partial<DeliveryPlan>;
  /** The exact body; by default a unique one, so the event is never a duplicate. */
  raw?: string;
};

export function newEvent(spec: EventSpec = {}): NewEvent {
  const type = spec.type ?? 'transcript';
  const raw = Buffer.from(spec.raw ?? JSON.stringify({ n: ++unique, pid: process.pid, conversationUUID: spec.conversation ?? null }));
  const searchable = { text: spec.text ?? '', tags: spec.tags ?? [] };
  return {
    type,
    receivedAt: spec.receivedAt ?? Date.now(),
    raw,
    bodySha256: createHash('sha256').update(type).update('\n').update(raw).digest(),
    identity: {
      conversationUUID: spec.conversation ?? null,
      visitorUUID: spec.visitorUUID ?? null,
      visitorEmail: spec.email ?? null,
      visitorName: spec.name ?? null,
      rating: spec.rating ?? null,
    },
    searchable: spec.firstResponseSeconds === undefined ? searchable : { ...searchable, firstResponseSeconds: spec.firstResponseSeconds },
    plan: { create: spec.plan?.create ?? [], cancel: spec.plan?.cancel ?? [] },
  };
}

/** A plan with one delivery per handler, due at `dueAt`. */
export const deliverTo = (dueAt: number, ...handlers: string[]): Partial<DeliveryPlan> => ({
  create: handlers.map((handler) => ({ handler, dueAt, conversationUUID: null })),
});
