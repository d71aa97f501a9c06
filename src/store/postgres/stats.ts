// Aggregates over a time range (read through the primary key between the range's seq bounds) and the capped rejections table.
import type pg from 'pg';
import type { EventType } from '../../chatlio/index.js';
import { DELIVERY_STATUSES, type DeliveryStatus, type FieldError, type Range, type RejectionRow } from '../storage.js';
import { toRejection, type RawRejection } from '../rows.js';
import { CLOCK_SLACK_MS, seqBoundAt } from './events.js';

/** The range's parameters: seq bounds ($1, $2) widened by the clock slack, then the exact times ($3, $4). */
async function bounds(db: pg.Pool, range: Range): Promise<number[]> {
  const [low, high] = await Promise.all([seqBoundAt(db, range.since - CLOCK_SLACK_MS), seqBoundAt(db, range.until + CLOCK_SLACK_MS)]);
  return [low, high, range.since, range.until];
}

export async function countsByTypeAndDay(db: pg.Pool, range: Range): Promise<Array<{ type: EventType; day: string; n: number }>> {
  // The day in UTC whatever the session's time zone, from whole seconds as SQLite's strftime(..., 'unixepoch') takes them.
  const { rows } = await db.query<{ type: EventType; day: string; n: number }>(
    `SELECT type, to_char(timestamp '1970-01-01' + (received_at / 1000) * interval '1 second', 'YYYY-MM-DD') AS day, count(*) AS n
     FROM events WHERE seq >= $1 AND seq < $2 AND received_at >= $3 AND received_at < $4
     GROUP BY day, type ORDER BY day, type COLLATE "C"`,
    await bounds(db, range),
  );
  return rows;
}

export async function ratings(db: pg.Pool, range: Range): Promise<{ up: number; down: number }> {
  const { rows } = await db.query<{ rating: 'up' | 'down'; n: number }>(
    `SELECT rating, count(*) AS n FROM events
     WHERE rating IS NOT NULL AND seq >= $1 AND seq < $2 AND received_at >= $3 AND received_at < $4 GROUP BY rating`,
    await bounds(db, range),
  );
  const counts = { up: 0, down: 0 };
  for (const row of rows) counts[row.rating] += row.n;
  return counts;
}

export async function firstResponseSeconds(db: pg.Pool, range: Range): Promise<number[]> {
  const { rows } = await db.query<{ seconds: number }>(
    `SELECT f.seconds FROM transcript_first_response f JOIN events e ON e.seq = f.seq
     WHERE f.seq >= $1 AND f.seq < $2 AND e.received_at >= $3 AND e.received_at < $4 ORDER BY f.seq`,
    await bounds(db, range),
  );
  return rows.map((row) => row.seconds);
}

export async function deliveryCounts(db: pg.Pool, range: Range): Promise<Record<DeliveryStatus, number>> {
  const { rows } = await db.query<{ status: DeliveryStatus; n: number }>(
    `SELECT d.status, count(*) AS n FROM deliveries d JOIN events e ON e.seq = d.event_seq
     WHERE d.event_seq >= $1 AND d.event_seq < $2 AND e.received_at >= $3 AND e.received_at < $4 GROUP BY d.status`,
    await bounds(db, range),
  );
  const counts = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/** Keeps the body and its errors, dropping the oldest rows beyond the cap, in one statement. */
export async function insertRejection(
  db: pg.Pool,
  max: number,
  rejection: { type: EventType; receivedAt: number; raw: Buffer; errors: FieldError[] },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `WITH added AS (
       INSERT INTO rejections (type, received_at, raw, errors) VALUES ($1, $2, $3, $4) RETURNING id
     ), pruned AS (
       DELETE FROM rejections WHERE id <= (SELECT id FROM added) - $5
     )
     SELECT id FROM added`,
    [rejection.type, rejection.receivedAt, rejection.raw, JSON.stringify(rejection.errors), max],
  );
  return rows[0]!.id;
}

export async function getRejection(db: pg.Pool, id: number): Promise<RejectionRow | undefined> {
  const { rows } = await db.query<RawRejection>('SELECT id, type, received_at, raw, errors FROM rejections WHERE id = $1', [id]);
  return rows[0] ? toRejection(rows[0]) : undefined;
}

export async function listRejections(db: pg.Pool, page: { before?: number; limit: number }): Promise<RejectionRow[]> {
  const { rows } = await db.query<RawRejection>(
    'SELECT id, type, received_at, raw, errors FROM rejections WHERE id < $1 ORDER BY id DESC LIMIT $2',
    [page.before ?? Number.MAX_SAFE_INTEGER, page.limit],
  );
  return rows.map(toRejection);
}

export async function removeRejection(db: pg.Pool, id: number): Promise<void> {
  await db.query('DELETE FROM rejections WHERE id = $1', [id]);
}
