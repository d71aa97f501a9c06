// The store step of ingest: hash the raw bytes, pull out the indexed fields, commit with the next group.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import { identify, type EventType, type Payload } from '../chatlio/index.js';
import { formatEventId } from '../store/events.js';
import { searchableOf } from '../chatlio/searchable.js';

export type IngestResult = { id: string; seq: number; duplicate: boolean };

/** Resolves once the event is durably committed (or recognised as a duplicate of a committed one). */
export async function ingestEvent(
  ctx: AppContext,
  event: { type: EventType; raw: Buffer; payload: Payload; receivedAt: number },
): Promise<IngestResult> {
  // The route is part of the identity: the same bytes on another route are another event.
  const bodySha256 = createHash('sha256').update(event.type).update('\n').update(event.raw).digest();
  const identity = identify(event.type, event.payload);
  const searchable = searchableOf(event.type, event.payload);
  const { seq, duplicate } = await ctx.committer.run(() => {
    const stored = ctx.events.insert({ type: event.type, receivedAt: event.receivedAt, raw: event.raw, bodySha256, identity });
    if (!stored.duplicate) {
      // The full-text row and the outbox rows commit with the event: search never sees it half-indexed, and a 200
      // means every delivery is on record. A duplicate indexes and plans nothing.
      ctx.search.index(stored.seq, searchable);
      ctx.dispatch?.plan({ ...event, seq: stored.seq, conversationUUID: identity.conversationUUID });
    }
    return stored;
  });
  return { id: formatEventId(seq), seq, duplicate };
}
