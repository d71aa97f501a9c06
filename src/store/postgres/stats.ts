// Aggregates over a time range (the BRIN index on received_at finds the range) and the capped rejections table.
import type pg from 'pg';
import type { EventType } from '../../chatlio/index.js';
import { DELIVERY_STATUSES, type DeliveryStatus, type FieldError, type Range, type RejectionRow } from '../storage.js';
import { toRejection, type RawRejection } from './rows.js';

export async function countsByTypeAndDay(db: pg.Pool, range: Range): Promise<Array<{ type: EventType; day: string; n: number }>> {
  // The day in UTC whatever the session's time zone, from whole seconds as SQLite's strftime(..., 'unixepoch') takes them.
  const { rows } = await db.query<{ type: EventType; day: string; n: number }>(
    `SELECT type, to_char(timestamp '1970-01-01' + (received_at / 1000) * interval '1 second', 'YYYY-MM-DD') AS day, count(*) AS n
     FROM events WHERE received_at >= $1 AND received_at < $2
     GROUP BY day, type ORDER BY day, type COLLATE "C"`,
    [range.since, range.until],
  );
  return rows;
}

export async function ratings(db: pg.Pool, range: Range): Promise<{ up: number; down: number }> {
  const { rows } = await db.query<{ rating: 'up' | 'down'; n: number }>(
    `SELECT rating, count(*) AS n FROM events
     WHERE rating IS NOT NULL AND received_at >= $1 AND received_at < $2 GROUP BY rating`,
    [range.since, range.until],
  );
  const counts = { up: 0, down: 0 };
  for (const row of rows) counts[row.rating] += row.n;
  return counts;
}

export async function firstResponseSeconds(db: pg.Pool, range: Range): Promise<number[]> {
  const { rows } = await db.query<{ seconds: number }>(
    `SELECT f.seconds FROM transcript_first_response f JOIN events e ON e.seq = f.seq
     WHERE e.received_at >= $1 AND e.received_at < $2 ORDER BY f.seq`,
    [range.since, range.until],
  );
  return rows.map((row) => row.seconds);
}

export async function deliveryCounts(db: pg.Pool, range: Range): Promise<Record<DeliveryStatus, number>> {
  const { rows } = await db.query<{ status: DeliveryStatus; n: number }>(
    `SELECT d.status, count(*) AS n FROM deliveries d JOIN events e ON e.seq = d.event_seq
     WHERE e.received_at >= $1 AND e.received_at < $2 GROUP BY d.status`,
    [range.since, range.until],
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
