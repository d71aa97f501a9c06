// The events table: insert with duplicate detection, and read back by seq.
import type { Db } from './db.js';
import type { EventRow, NewEvent } from '../storage.js';
import type { IdCodec } from '../ids.js';

import { EVENT_COLUMNS, toEventRow, type RawEvent as RawEventRow } from '../rows.js';

export { EVENT_COLUMNS, toEventRow, type RawEventRow };

export type EventStore = ReturnType<typeof eventStore>;

export function eventStore(db: Db, ids: IdCodec) {
  const insert = db.prepare<Record<string, unknown>, { seq: number }>(`
    INSERT INTO events (type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating)
    VALUES (@type, @receivedAt, @bodySha256, @raw, @conversationUUID, @visitorUUID, @visitorEmail, @visitorName, @rating)
    ON CONFLICT (body_sha256) DO NOTHING
    RETURNING seq`);
  const seqByHash = db.prepare<[Buffer], { seq: number }>('SELECT seq FROM events WHERE body_sha256 = ?');
  const bySeq = db.prepare<[number], RawEventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ?`);

  return {
    /** Stores the event unless the same bytes were stored before on the same route; returns its seq either way. */
    insert(event: Pick<NewEvent, 'type' | 'receivedAt' | 'raw' | 'bodySha256' | 'identity'>): { seq: number; duplicate: boolean } {
      const inserted = insert.get({
        type: event.type,
        receivedAt: event.receivedAt,
        bodySha256: event.bodySha256,
        raw: event.raw,
        ...event.identity,
      });
      if (inserted) return { seq: inserted.seq, duplicate: false };
      const existing = seqByHash.get(event.bodySha256);
      if (!existing) throw new Error('duplicate event vanished during insert');
      return { seq: existing.seq, duplicate: true };
    },
    get(seq: number): EventRow | undefined {
      const row = bySeq.get(seq);
      return row ? toEventRow(row, ids) : undefined;
    },
  };
}
