// The store step of ingest: hash the raw bytes, pull out the indexed fields, plan the deliveries, commit with the next group.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import { identify, type EventType, type Payload } from '../chatlio/index.js';
import { searchableOf } from '../chatlio/searchable.js';
import type { IngestResult } from '../store/storage.js';

const NO_PLAN = { create: [], cancel: [] };

/** Resolves once the event is durably committed (or recognised as a duplicate of a committed one). */
export async function ingestEvent(
  ctx: Pick<AppContext, 'storage' | 'dispatch'>,
  event: { type: EventType; raw: Buffer; payload: Payload; receivedAt: number },
): Promise<IngestResult> {
  // The route is part of the identity: the same bytes on another route are another event.
  const bodySha256 = createHash('sha256').update(event.type).update('\n').update(event.raw).digest();
  const identity = identify(event.type, event.payload);
  // Planned before the write, as data: the store applies it in the event's own transaction (and skips it for a duplicate).
  const plan = ctx.dispatch?.plan({ ...event, conversationUUID: identity.conversationUUID }) ?? NO_PLAN;
  return ctx.storage.ingest({
    type: event.type,
    receivedAt: event.receivedAt,
    raw: event.raw,
    bodySha256,
    identity,
    searchable: searchableOf(event.type, event.payload),
    plan,
  });
}
