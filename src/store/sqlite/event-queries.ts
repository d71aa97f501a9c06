// Reading and erasing stored events: filtered keyset pages, conversations, time bounds, and deletions for privacy and retention.
import type { Db } from './db.js';
import { rowsThatFit, type EventFilter, type EventPage, type EventPageOptions, type EventRow } from '../storage.js';
import { EVENT_COLUMNS, toEventRow, type RawEventRow } from './events.js';
import type { IdCodec } from '../ids.js';
import { ftsMatch, tagMatch } from './search.js';

type RawRow = RawEventRow;

// received_at is taken before the commit that assigns seq, so arrival order and clock order can disagree by the
// time a request waits for its group commit (milliseconds) or a small clock step: time bounds are widened to seq
// bounds by this much, then checked exactly on received_at.
export const CLOCK_SLACK_MS = 60_000;

const columns = (alias: string) =>
  EVENT_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');

export type EventQueries = ReturnType<typeof eventQueries>;

export function eventQueries(db: Db, ids: IdCodec) {
  const statements = new Map<string, ReturnType<Db['prepare']>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const firstAtOrAfter = db.prepare<[number], { seq: number; received_at: number }>(
    'SELECT seq, received_at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1',
  );
  const maxSeq = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events');

  /**
   * The smallest seq bound B such that events from B on arrived at or after `at` (if clocks only move forward):
   * a binary search over the primary key, so time filters need no index on received_at (which every ingest would pay).
   */
  function seqBoundAt(at: number): number {
    let low = 1;
    let high = (maxSeq.get()?.seq ?? 0) + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const row = firstAtOrAfter.get(middle);
      if (!row || row.seq >= high || row.received_at >= at) high = middle;
      else low = row.seq + 1;
    }
    return low;
  }

  /** The WHERE clause for a filter, its parameters, and the table that should drive the query. */
  function plan(filter: EventFilter, before: number | undefined) {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    // Text and tags are both answered by the full-text index, in one MATCH.
    const match = [filter.search === undefined ? undefined : ftsMatch(filter.search), filter.tag === undefined ? undefined : tagMatch(filter.tag)].filter((part) => part !== undefined);
    // Selective filters with their own index drive the query; otherwise the full-text index, then arrival order.
    const selective = filter.conversation !== undefined || filter.visitor !== undefined;
    const driver = match.length > 0 && !selective ? 'fts' : 'events';

    if (before !== undefined) {
      where.push('e.seq < @before');
      params.before = before;
    }
    if (filter.since !== undefined) {
      where.push('e.seq >= @sinceSeq AND e.received_at >= @since');
      params.sinceSeq = seqBoundAt(filter.since - CLOCK_SLACK_MS);
      params.since = filter.since;
    }
    if (filter.until !== undefined) {
      where.push('e.seq < @untilSeq AND e.received_at < @until');
      params.untilSeq = seqBoundAt(filter.until + CLOCK_SLACK_MS);
      params.until = filter.until;
    }
    if (filter.types !== undefined) {
      where.push('e.type IN (SELECT value FROM json_each(@types))');
      params.types = JSON.stringify(filter.types);
    }
    if (filter.conversation !== undefined) {
      where.push('e.conversation_uuid = @conversation');
      params.conversation = filter.conversation;
    }
    if (filter.visitor !== undefined) {
      if (filter.visitor.includes('@')) where.push('e.visitor_email = lower(@visitor)');
      else where.push('e.visitor_uuid = @visitor');
      params.visitor = filter.visitor;
    }
    if (filter.rating !== undefined) {
      where.push('e.rating = @rating');
      params.rating = filter.rating;
    }
    if (filter.delivery !== undefined) {
      // Probed per event through deliveries_event: an event has a handful of deliveries at most.
      const handler = filter.delivery.handler === undefined ? '' : ' AND d.handler = @deliveryHandler';
      where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = @deliveryStatus${handler})`);
      params.deliveryStatus = filter.delivery.status;
      if (filter.delivery.handler !== undefined) params.deliveryHandler = filter.delivery.handler;
    }
    if (match.length > 0) {
      params.match = match.join(' AND ');
      if (driver === 'fts') where.push('events_fts MATCH @match');
      else where.push('EXISTS (SELECT 1 FROM events_fts WHERE events_fts MATCH @match AND rowid = e.seq)');
    }

    // CROSS JOIN fixes the join order: the full-text index's rowid order is the newest-first order we page by.
    const from = driver === 'fts' ? 'events_fts f CROSS JOIN events e ON e.seq = f.rowid' : 'events e';
    const order = driver === 'fts' ? 'f.rowid DESC' : 'e.seq DESC';
    // Bounds restated on the full-text rowid so the index seeks to them.
    if (driver === 'fts') {
      if (before !== undefined) where.push('f.rowid < @before');
      if (filter.since !== undefined) where.push('f.rowid >= @sinceSeq');
      if (filter.until !== undefined) where.push('f.rowid < @untilSeq');
    }
    return { from, where: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', order, params };
  }

  const byConversation = db.prepare<[string], RawRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE conversation_uuid = ? ORDER BY seq`,
  );
  const bySeqs = db.prepare<[string], RawRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq DESC`,
  );
  const deleteBySeq = db.prepare<[number], void>('DELETE FROM events WHERE seq = ?');
  const uuidsByEmail = db.prepare<[string], { id: string }>(
    'SELECT DISTINCT visitor_uuid AS id FROM events WHERE visitor_email = ? AND visitor_uuid IS NOT NULL',
  );
  const emailsByUuid = db.prepare<[string], { id: string }>(
    'SELECT DISTINCT visitor_email AS id FROM events WHERE visitor_uuid = ? AND visitor_email IS NOT NULL',
  );
  const deleteByEmail = db.prepare<[string], void>('DELETE FROM events WHERE visitor_email = ?');
  const deleteByUuid = db.prepare<[string], void>('DELETE FROM events WHERE visitor_uuid = ?');
  const deleteRejectionsMentioning = db.prepare<[string], void>(
    'DELETE FROM rejections WHERE instr(lower(CAST(raw AS TEXT)), ?) > 0',
  );
  const deleteOldest = db.prepare<{ bound: number; cutoff: number; batch: number }, void>(`
    DELETE FROM events WHERE seq IN (
      SELECT seq FROM events WHERE seq < @bound AND received_at < @cutoff ORDER BY seq LIMIT @batch
    )`);

  return {
    /**
     * One page of matching events, newest first, strictly before `before` (a seq) when given. With `maxBytes`, the
     * body sizes are read first (length() of a blob reads no overflow pages) and only the bodies that fit are read.
     */
    list(filter: EventFilter, options: EventPageOptions): EventPage {
      const { from, where, order, params } = plan(filter, options.before);
      if (options.maxBytes === undefined) {
        const sql = `SELECT ${columns('e')} FROM ${from} ${where} ORDER BY ${order} LIMIT @limit`;
        const raws = prepared(sql).all({ ...params, limit: options.limit + 1 }) as RawRow[];
        const rows = raws.slice(0, options.limit).map((row) => toEventRow(row, ids));
        return { rows, next: raws.length > options.limit ? rows.at(-1)!.seq : null };
      }
      const sizesSql = `SELECT e.seq AS seq, length(e.raw) AS size FROM ${from} ${where} ORDER BY ${order} LIMIT @limit`;
      const sizes = prepared(sizesSql).all({ ...params, limit: options.limit + 1 }) as Array<{ seq: number; size: number }>;
      const taken = rowsThatFit(sizes.map((row) => row.size), options.limit, options.maxBytes);
      const seqs = sizes.slice(0, taken).map((row) => row.seq);
      const rows = (bySeqs.all(JSON.stringify(seqs)) as RawRow[]).map((row) => toEventRow(row, ids));
      return { rows, next: sizes.length > taken ? seqs.at(-1)! : null };
    },

    /** The SQL a filter runs, for EXPLAIN QUERY PLAN in benchmarks and tests. */
    explain(filter: EventFilter, before?: number): string {
      const { from, where, order, params } = plan(filter, before);
      const sql = `SELECT ${columns('e')} FROM ${from} ${where} ORDER BY ${order} LIMIT @limit`;
      const steps = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ ...params, limit: 50 }) as Array<{ detail: string }>;
      return steps.map((step) => step.detail).join('; ');
    },

    /** Every event of a conversation, oldest first. */
    conversation(uuid: string): EventRow[] {
      return byConversation.all(uuid).map((row) => toEventRow(row, ids));
    },

    seqBoundAt,

    /** Deletes one event with its full-text row and (through their foreign keys) first-response row and deliveries; true if it existed. */
    deleteEvent(seq: number): boolean {
      return deleteBySeq.run(seq).changes > 0;
    },

    /**
     * Erases a visitor: every event carrying the key (an email or a visitor UUID) or an identifier seen beside it on
     * those events (the UUIDs of an email, the emails of a UUID), and the rejected bodies that mention any of them.
     */
    deleteVisitor(key: string): { events: number; rejections: number } {
      const emails = new Set<string>();
      const uuids = new Set<string>();
      if (key.includes('@')) {
        emails.add(key.toLowerCase());
        for (const { id } of uuidsByEmail.all(key.toLowerCase())) uuids.add(id);
      } else {
        uuids.add(key);
      }
      for (const uuid of uuids) for (const { id } of emailsByUuid.all(uuid)) emails.add(id);
      let events = 0;
      let rejections = 0;
      for (const email of emails) events += deleteByEmail.run(email).changes;
      for (const uuid of uuids) events += deleteByUuid.run(uuid).changes;
      for (const id of [...emails, ...uuids]) rejections += deleteRejectionsMentioning.run(id.toLowerCase()).changes;
      return { events, rejections };
    },

    /** Deletes up to `batch` of the oldest events received before `cutoff`; returns how many went. */
    deleteOlderThan(cutoff: number, batch: number): number {
      return deleteOldest.run({ bound: seqBoundAt(cutoff), cutoff, batch }).changes;
    },
  };
}
