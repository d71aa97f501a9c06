// Reading and erasing events: filtered keyset pages, conversations, and deletions for privacy and retention.
import type pg from 'pg';
import { rowsThatFit, type EventFilter, type EventPage, type EventPageOptions, type EventRow } from '../storage.js';
import { EVENT_COLUMNS, toEventRow, type RawEvent } from '../rows.js';
import type { IdCodec } from '../ids.js';
import { toTsquery } from './search.js';
import { inTransaction } from './connection.js';

// received_at is taken before the commit that assigns seq, so arrival order and clock order can disagree by the time a
// request waits for its group commit or a small clock step: time bounds are widened to seq bounds by this much (as on
// SQLite), then checked exactly on received_at.
export const CLOCK_SLACK_MS = 60_000;

/**
 * The smallest seq B such that events from B on arrived at or after `at` (if clocks only move forward): a binary
 * search over the primary key in one statement, so time filters need no index on received_at (which every ingest
 * would pay) and page through the primary key like any other query.
 */
export async function seqBoundAt(db: pg.Pool | pg.PoolClient, at: number): Promise<number> {
  const { rows } = await db.query<{ bound: number }>(
    `WITH RECURSIVE step(low, high) AS (
       SELECT 1::bigint, (SELECT coalesce(max(seq), 0) + 1 FROM events)
       UNION ALL
       SELECT CASE WHEN probe.seq IS NULL OR probe.seq >= step.high OR probe.received_at >= $1 THEN step.low ELSE probe.seq + 1 END,
              CASE WHEN probe.seq IS NULL OR probe.seq >= step.high OR probe.received_at >= $1 THEN (step.low + step.high) / 2 ELSE step.high END
       FROM step
       LEFT JOIN LATERAL (
         SELECT seq, received_at FROM events WHERE seq >= (step.low + step.high) / 2 ORDER BY seq LIMIT 1
       ) probe ON true
       WHERE step.low < step.high
     )
     SELECT max(low) AS bound FROM step`,
    [at],
  );
  return rows[0]!.bound;
}

/** Collects positional parameters while a WHERE clause is written. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

async function conditionsOf(db: pg.Pool, filter: EventFilter, before: number | undefined, params: Params): Promise<string[]> {
  const where: string[] = [];
  if (before !== undefined) where.push(`seq < ${params.add(before)}`);
  if (filter.since !== undefined) {
    const bound = await seqBoundAt(db, filter.since - CLOCK_SLACK_MS);
    where.push(`seq >= ${params.add(bound)} AND received_at >= ${params.add(filter.since)}`);
  }
  if (filter.until !== undefined) {
    const bound = await seqBoundAt(db, filter.until + CLOCK_SLACK_MS);
    where.push(`seq < ${params.add(bound)} AND received_at < ${params.add(filter.until)}`);
  }
  if (filter.types !== undefined) where.push(`type = ANY(${params.add(filter.types)}::text[])`);
  if (filter.conversation !== undefined) where.push(`conversation_uuid = ${params.add(filter.conversation)}`);
  if (filter.visitor !== undefined) {
    if (filter.visitor.includes('@')) where.push(`visitor_email = lower(${params.add(filter.visitor)})`);
    else where.push(`visitor_uuid = ${params.add(filter.visitor)}`);
  }
  if (filter.rating !== undefined) where.push(`rating = ${params.add(filter.rating)}`);
  // The IS NOT NULL conditions let the planner use the partial GIN indexes.
  if (filter.tag !== undefined) where.push(`tags IS NOT NULL AND tags @> ARRAY[${params.add(filter.tag)}::text]`);
  if (filter.search !== undefined && filter.search.length > 0) {
    where.push(`search IS NOT NULL AND search @@ ${params.add(toTsquery(filter.search))}::tsquery`);
  }
  if (filter.delivery !== undefined) {
    // Probed per event through deliveries_event: an event has a handful of deliveries at most.
    const handler = filter.delivery.handler === undefined ? '' : ` AND d.handler = ${params.add(filter.delivery.handler)}`;
    where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq AND d.status = ${params.add(filter.delivery.status)}${handler})`);
  }
  return where;
}

// A full-text or tag filter has no index that hands out events newest first (GIN only answers "which"). Walking the
// primary key backwards fills a page of a common word at once but reads every event for a word found nowhere (3.5 s at
// 1,000,000 events), and a bitmap scan of the GIN index finds a rare word at once but fetches every match of a common
// one, each on its own heap page; the planner's estimates for words cannot tell the two apart. So the newest
// RECENT_WINDOW seqs are walked first, and the GIN index takes over for the older events only when that window held
// less than a page: the words are then rarer than one event in RECENT_WINDOW / limit, and the index hands over few
// rows. 20,000 balances the two worst cases at a million events (a walk of the whole window, 15 ms with the table cached, against a
// bitmap of about 2,500 scattered rows); 5,000 left a 1%-frequent tag to the bitmap, 9,000 rows and 370 ms. Only when
// the words (and time bounds) are the whole filter: with a type or rating as well, a short window says nothing about
// how many events the words match, and the planner's walk stays. SQLite needs none of this: FTS5 yields its matches
// newest first.
const RECENT_WINDOW = 20_000;

/**
 * The query for one page of matching events newest first, `columns` of each, at most `limit` rows; a filter of only
 * words or a tag goes through the window above.
 */
async function pageQuery(db: pg.Pool, filter: EventFilter, before: number | undefined, limit: number, columns: string, params: Params): Promise<string> {
  const conditions = await conditionsOf(db, filter, before, params);
  const limitParam = params.add(limit);
  const matched = (filter.search !== undefined && filter.search.length > 0) || filter.tag !== undefined;
  const windowed = matched && [filter.types, filter.rating, filter.conversation, filter.visitor, filter.delivery].every((value) => value === undefined);
  if (!windowed) {
    return `SELECT ${columns} FROM events ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${limitParam}`;
  }
  const top = before === undefined ? '(SELECT coalesce(max(seq), 0) + 1 FROM events)' : `${params.add(before)}::bigint`;
  const low = `${top} - ${RECENT_WINDOW}`;
  // `older` runs only when `recent` came up short (a one-time filter); MATERIALIZED keeps its LIMIT-less scan the
  // planner's cheapest way to all matches (the GIN bitmap), rather than a backward walk meant to stop early.
  return `WITH recent AS (
      SELECT seq FROM events WHERE ${[...conditions, `seq >= ${low}`].join(' AND ')} ORDER BY seq DESC LIMIT ${limitParam}
    ), older AS MATERIALIZED (
      SELECT seq FROM events WHERE ${[...conditions, `seq < ${low}`].join(' AND ')} AND (SELECT count(*) FROM recent) < ${limitParam}
    )
    SELECT ${columns} FROM events WHERE seq IN (
      SELECT seq FROM (SELECT seq FROM recent UNION ALL SELECT seq FROM older) AS matches ORDER BY seq DESC LIMIT ${limitParam}
    ) ORDER BY seq DESC`;
}

export async function getEvent(db: pg.Pool, ids: IdCodec, seq: number): Promise<EventRow | undefined> {
  const { rows } = await db.query<RawEvent>(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1`, [seq]);
  return rows[0] ? toEventRow(rows[0], ids) : undefined;
}

/**
 * One page of matching events, newest first, strictly before `before` (a seq) when given. With `maxBytes`, the body
 * sizes are read first (octet_length reads the TOAST header, not the value) and only the bodies that fit are fetched.
 */
export async function listEvents(db: pg.Pool, ids: IdCodec, filter: EventFilter, page: EventPageOptions): Promise<EventPage> {
  const params = new Params();
  if (page.maxBytes === undefined) {
    const { rows } = await db.query<RawEvent>(await pageQuery(db, filter, page.before, page.limit + 1, EVENT_COLUMNS, params), params.values);
    const events = rows.slice(0, page.limit).map((row) => toEventRow(row, ids));
    return { rows: events, next: rows.length > page.limit ? events.at(-1)!.seq : null };
  }
  const { rows: sizes } = await db.query<{ seq: number; size: number }>(
    await pageQuery(db, filter, page.before, page.limit + 1, 'seq, octet_length(raw) AS size', params),
    params.values,
  );
  const taken = rowsThatFit(sizes.map((row) => row.size), page.limit, page.maxBytes);
  const seqs = sizes.slice(0, taken).map((row) => row.seq);
  const { rows } = await db.query<RawEvent>(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq = ANY($1::bigint[]) ORDER BY seq DESC`, [seqs]);
  // An event erased between the two reads is simply missing from the page; the cursor still moves past it.
  return { rows: rows.map((row) => toEventRow(row, ids)), next: sizes.length > taken ? seqs.at(-1)! : null };
}

export async function conversation(db: pg.Pool, ids: IdCodec, uuid: string): Promise<EventRow[]> {
  const { rows } = await db.query<RawEvent>(`SELECT ${EVENT_COLUMNS} FROM events WHERE conversation_uuid = $1 ORDER BY seq`, [uuid]);
  return rows.map((row) => toEventRow(row, ids));
}

export async function deleteEvent(db: pg.Pool, seq: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM events WHERE seq = $1', [seq]);
  return (rowCount ?? 0) > 0;
}

/**
 * Erases a visitor: every event carrying the key (an email or a visitor UUID) or an identifier seen beside it on
 * those events (the UUIDs of an email, the emails of a UUID), and the rejected bodies that mention any of them; in one
 * transaction.
 */
export async function deleteVisitor(db: pg.Pool, key: string): Promise<{ events: number; rejections: number }> {
  return inTransaction(db, async (client) => {
    const emails = new Set<string>();
    const uuids = new Set<string>();
    if (key.includes('@')) {
      emails.add(key.toLowerCase());
      const found = await client.query<{ id: string }>(
        'SELECT DISTINCT visitor_uuid AS id FROM events WHERE visitor_email = $1 AND visitor_uuid IS NOT NULL',
        [key.toLowerCase()],
      );
      for (const { id } of found.rows) uuids.add(id);
    } else {
      uuids.add(key);
    }
    const found = await client.query<{ id: string }>(
      'SELECT DISTINCT visitor_email AS id FROM events WHERE visitor_uuid = ANY($1::text[]) AND visitor_email IS NOT NULL',
      [[...uuids]],
    );
    for (const { id } of found.rows) emails.add(id);
    const events = await client.query('DELETE FROM events WHERE visitor_email = ANY($1::text[]) OR visitor_uuid = ANY($2::text[])', [
      [...emails],
      [...uuids],
    ]);
    // Rejected bodies may not be valid UTF-8: searched as bytes, ASCII letters folded (as SQLite's lower() does). The
    // escape encoding keeps ASCII as is and writes other bytes as \ooo, on both sides.
    const identifiers = [...emails, ...uuids].map((id) => Buffer.from(id.toLowerCase(), 'utf8'));
    const rejections = await client.query(
      `DELETE FROM rejections r WHERE EXISTS (
         SELECT 1 FROM unnest($1::bytea[]) AS id WHERE strpos(lower(encode(r.raw, 'escape')), encode(id, 'escape')) > 0
       )`,
      [identifiers],
    );
    return { events: events.rowCount ?? 0, rejections: rejections.rowCount ?? 0 };
  });
}

/** Deletes up to `batch` of the oldest events received before `cutoff`; returns how many went. */
export async function deleteOlderThan(db: pg.Pool, cutoff: number, batch: number): Promise<number> {
  const bound = await seqBoundAt(db, cutoff);
  const { rowCount } = await db.query(
    'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq < $1 AND received_at < $2 ORDER BY seq LIMIT $3)',
    [bound, cutoff, batch],
  );
  return rowCount ?? 0;
}
