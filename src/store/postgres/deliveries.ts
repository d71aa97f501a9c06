// The outbox on PostgreSQL: claims with a lease and a claim token (several replicas share it), outcomes recorded only
// by the claim that still holds the delivery, a reaper for expired leases, and the API's reads and redeliveries.
import type pg from 'pg';
import { cut, ERROR_MAX_CHARS, RESPONSE_MAX_CHARS } from '../deliveries.js';
import type {
  Attempt,
  AttemptRecord,
  Backlog,
  ClaimRequest,
  ClaimedDelivery,
  Delivery,
  DeliveryFilter,
  DeliveryStatus,
} from '../storage.js';
import { inTransaction, LOCK_SPACE } from './connection.js';
import { CLOCK_SLACK_MS, seqBoundAt } from './events.js';
import { DELIVERY_COLUMNS, toAttempt, toDelivery, type RawAttempt, type RawDelivery } from '../rows.js';
import type { IdCodec } from '../ids.js';


const prefixed = (alias: string) =>
  DELIVERY_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');

/**
 * The leases' clock: the database's (replicas' clocks may disagree), unless the caller passed the time (unix ms) in
 * the given parameter, as tests do to make a lease run out; NULL there means the database's.
 */
const LEASE_CLOCK = (param: string) => `coalesce(to_timestamp(${param}::float8 / 1000), now())`;

/**
 * In one short transaction: cancels due escalations already followed by a cancelling event (it may have committed on
 * another replica after this delivery was planned), then claims the most overdue due deliveries the handler's global
 * concurrency leaves room for.
 */
export async function claimDue(db: pg.Pool, ids: IdCodec, request: ClaimRequest, now: number, leaseClock: number | undefined): Promise<ClaimedDelivery[]> {
  if (request.concurrency <= 0) return [];
  return inTransaction(db, async (client) => {
    // Serialises claims of this handler across replicas, so two cannot both count the same free slots.
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE.claim, request.handler]);
    if (request.unlessFollowedBy.length > 0) {
      await client.query(
        `UPDATE deliveries d SET status = 'cancelled', due_at = NULL, updated_at = $2, cancelled_by = f.by_seq
         FROM (
           SELECT w.id, (SELECT min(e.seq) FROM events e
                         WHERE e.conversation_uuid = w.conversation_uuid AND e.seq > w.event_seq AND e.type = ANY($3::text[])) AS by_seq
           FROM deliveries w
           WHERE w.handler = $1 AND w.status IN ('pending', 'failed') AND w.due_at <= $2 AND w.conversation_uuid IS NOT NULL
         ) f
         WHERE d.id = f.id AND f.by_seq IS NOT NULL`,
        [request.handler, now, request.unlessFollowedBy],
      );
    }
    const running = await client.query<{ n: number }>(
      `SELECT count(*) AS n FROM deliveries WHERE handler = $1 AND status = 'running' AND lease_until > ${LEASE_CLOCK('$2')}`,
      [request.handler, leaseClock ?? null],
    );
    const room = request.concurrency - running.rows[0]!.n;
    if (room <= 0) return [];
    const claimed = await client.query<RawDelivery & { claim_token: string }>(
      `WITH due AS (
         SELECT id, due_at FROM deliveries
         WHERE handler = $1 AND status IN ('pending', 'failed') AND due_at <= $2
         ORDER BY due_at, id LIMIT $3
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE deliveries d
         SET status = 'running', attempts = d.attempts + 1, due_at = NULL, updated_at = $2,
             lease_until = ${LEASE_CLOCK('$5')} + $4 * interval '1 millisecond', claim_token = gen_random_uuid()::text
         FROM due WHERE d.id = due.id
         RETURNING ${prefixed('d')}, d.claim_token, due.due_at AS was_due
       )
       SELECT * FROM claimed ORDER BY was_due, id`,
      [request.handler, now, room, request.leaseMs, leaseClock ?? null],
    );
    if (claimed.rows.length === 0) return [];
    // A second statement rather than a third CTE: joining two CTEs' results back together is planned as a nested loop.
    const opened = await client.query<{ id: number; delivery_id: number }>(
      `INSERT INTO delivery_attempts (delivery_id, attempt, started_at)
       SELECT delivery_id, attempt, $3 FROM unnest($1::bigint[], $2::int[]) AS u(delivery_id, attempt)
       RETURNING id, delivery_id`,
      [claimed.rows.map((row) => row.id), claimed.rows.map((row) => row.attempts), now],
    );
    const attemptIds = new Map(opened.rows.map((row) => [row.delivery_id, row.id]));
    return claimed.rows.map((row) => ({ ...toDelivery(row, ids), attemptId: attemptIds.get(row.id)!, attempt: row.attempts, claimToken: row.claim_token }));
  });
}

/** Closes the attempt and moves the delivery on in one statement, only while the claim token still matches. */
export async function recordAttempt(db: pg.Pool, record: AttemptRecord, now: number): Promise<boolean> {
  const error = cut(record.error, ERROR_MAX_CHARS);
  const { rows } = await db.query<{ n: number }>(
    `WITH finished AS (
       UPDATE deliveries SET status = $3, due_at = $4, updated_at = $5, last_error = $6, last_status_code = $7,
         external_id = COALESCE($8, external_id), state = COALESCE($9, state),
         manual = CASE WHEN $3 IN ('succeeded', 'dead') THEN false ELSE manual END,
         lease_until = NULL, claim_token = NULL
       WHERE id = $1 AND claim_token = $2 AND status = 'running'
       RETURNING id, handler
     ), closed AS (
       UPDATE delivery_attempts SET duration_ms = $11, outcome = $12, status_code = $7, error = $6, response = $13
       WHERE id = $10 AND delivery_id IN (SELECT id FROM finished)
     ), health AS (
       -- The counter behind the "failed N times in a row" alert: reset by a success, raised by a failure.
       INSERT INTO handler_health AS h (handler, consecutive_failures, last_error, last_status_code, updated_at)
       SELECT handler, CASE WHEN $12 = 'failed' THEN 1 ELSE 0 END, CASE WHEN $12 = 'failed' THEN $6 END,
         CASE WHEN $12 = 'failed' THEN $7::integer END, $5
       FROM finished WHERE $12 <> 'interrupted'
       ON CONFLICT (handler) DO UPDATE SET
         consecutive_failures = CASE WHEN $12 = 'failed' THEN h.consecutive_failures + 1 ELSE 0 END,
         last_error = COALESCE(excluded.last_error, h.last_error),
         last_status_code = COALESCE(excluded.last_status_code, h.last_status_code), updated_at = excluded.updated_at
     )
     SELECT count(*) AS n FROM finished`,
    [
      record.deliverySeq,
      record.claimToken,
      record.next.status,
      'dueAt' in record.next ? record.next.dueAt : null,
      now,
      error,
      record.statusCode ?? null,
      record.externalId ?? null,
      record.state === undefined ? null : JSON.stringify(record.state),
      record.attemptId,
      Math.round(record.durationMs),
      record.outcome,
      cut(record.response, RESPONSE_MAX_CHARS),
    ],
  );
  return rows[0]!.n > 0;
}

/** Running deliveries whose lease ran out go back to pending, due now; their open attempt is interrupted. */
export async function reapExpiredLeases(db: pg.Pool, now: number, leaseClock: number | undefined): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH expired AS (
       UPDATE deliveries SET status = 'pending', due_at = $1, updated_at = $1, last_error = 'the lease ran out before the attempt was recorded',
         lease_until = NULL, claim_token = NULL
       WHERE id IN (SELECT id FROM deliveries WHERE status = 'running' AND lease_until <= ${LEASE_CLOCK('$2')} FOR UPDATE SKIP LOCKED)
       RETURNING id
     ), interrupted AS (
       UPDATE delivery_attempts SET outcome = 'interrupted', error = 'the worker stopped or hung during this attempt'
       WHERE outcome IS NULL AND delivery_id IN (SELECT id FROM expired)
     )
     SELECT count(*) AS n FROM expired`,
    [now, leaseClock ?? null],
  );
  return rows[0]!.n;
}

export async function nextDueAt(db: pg.Pool, handlers: readonly string[]): Promise<number | undefined> {
  if (handlers.length === 0) return undefined;
  const { rows } = await db.query<{ due: number | null }>(
    "SELECT min(due_at) AS due FROM deliveries WHERE handler = ANY($1::text[]) AND status IN ('pending', 'failed')",
    [handlers],
  );
  return rows[0]?.due ?? undefined;
}

export async function getDelivery(db: pg.Pool, ids: IdCodec, seq: number): Promise<Delivery | undefined> {
  const { rows } = await db.query<RawDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`, [seq]);
  return rows[0] ? toDelivery(rows[0], ids) : undefined;
}

export async function deliveriesForEvent(db: pg.Pool | pg.PoolClient, ids: IdCodec, eventSeq: number): Promise<Delivery[]> {
  const { rows } = await db.query<RawDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_seq = $1 ORDER BY id`, [eventSeq]);
  return rows.map((row) => toDelivery(row, ids));
}

export async function deliveriesForEvents(db: pg.Pool, ids: IdCodec, eventSeqs: readonly number[]): Promise<Delivery[]> {
  const { rows } = await db.query<RawDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_seq = ANY($1::bigint[]) ORDER BY event_seq, id`, [eventSeqs]);
  return rows.map((row) => toDelivery(row, ids));
}

export async function attempts(db: pg.Pool, deliverySeq: number): Promise<Attempt[]> {
  const { rows } = await db.query<RawAttempt>(
    'SELECT attempt, started_at, duration_ms, outcome, status_code, error, response FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id',
    [deliverySeq],
  );
  return rows.map(toAttempt);
}

export async function listDeliveries(db: pg.Pool, ids: IdCodec, filter: DeliveryFilter, page: { before?: number; limit: number }): Promise<Delivery[]> {
  const where = ['id < $1'];
  const params: unknown[] = [page.before ?? Number.MAX_SAFE_INTEGER, page.limit];
  if (filter.status !== undefined) where.push(`status = $${params.push(filter.status)}`);
  if (filter.handler !== undefined) where.push(`handler = $${params.push(filter.handler)}`);
  const { rows } = await db.query<RawDelivery>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $2`,
    params,
  );
  return rows.map((row) => toDelivery(row, ids));
}

/**
 * Creates deliveries for handlers added after the event arrived, then puts the event's deliveries of `handlers` (all
 * when undefined, and the new ones) back to pending, due now, as manual; a running one is left alone.
 */
export async function redeliverEvent(
  db: pg.Pool,
  ids: IdCodec,
  eventSeq: number,
  input: { create: string[]; handlers?: readonly string[] },
  now: number,
): Promise<Delivery[]> {
  return inTransaction(db, async (client) => {
    if (input.create.length > 0) {
      await client.query(
        `INSERT INTO deliveries (event_seq, handler, status, due_at, created_at, updated_at)
         SELECT $1, handler, 'pending', $3, $3, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(handler, ord) ORDER BY ord`,
        [eventSeq, input.create, now],
      );
    }
    const handlers = input.handlers === undefined ? null : [...input.handlers, ...input.create];
    await client.query(
      `UPDATE deliveries SET status = 'pending', due_at = $2, updated_at = $2, manual = true, cancelled_by = NULL
       WHERE event_seq = $1 AND status <> 'running' AND ($3::text[] IS NULL OR handler = ANY($3::text[]))`,
      [eventSeq, now, handlers],
    );
    const all = await deliveriesForEvent(client, ids, eventSeq);
    return handlers === null ? all : all.filter((delivery) => handlers.includes(delivery.handler));
  });
}

export async function redeliverAll(
  db: pg.Pool,
  filter: { status: DeliveryStatus; handler?: string; since?: number; until?: number },
  now: number,
): Promise<number> {
  const ranged = filter.since !== undefined || filter.until !== undefined;
  const low = filter.since === undefined ? 0 : await seqBoundAt(db, filter.since - CLOCK_SLACK_MS);
  const high = filter.until === undefined ? Number.MAX_SAFE_INTEGER : await seqBoundAt(db, filter.until + CLOCK_SLACK_MS);
  const { rowCount } = await db.query(
    `UPDATE deliveries d SET status = 'pending', due_at = $1, updated_at = $1, manual = true, cancelled_by = NULL
     WHERE d.status = $2 AND ($3::text IS NULL OR d.handler = $3)
       ${ranged ? 'AND d.event_seq >= $4 AND d.event_seq < $5 AND EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq AND e.received_at >= $6 AND e.received_at < $7)' : ''}`,
    ranged
      ? [now, filter.status, filter.handler ?? null, low, high, filter.since ?? 0, filter.until ?? Number.MAX_SAFE_INTEGER]
      : [now, filter.status, filter.handler ?? null],
  );
  return rowCount ?? 0;
}

/** Waiting and running rows only: both partial indexes, never the finished history. */
export async function backlog(db: pg.Pool): Promise<Backlog> {
  // Each branch reads one index (two partial ones, and deliveries_status for the dead rows, which the dead gauge needs):
  // never the whole table.
  const counts = await db.query<{ handler: string; status: 'pending' | 'failed' | 'running' | 'dead'; count: number }>(
    `SELECT handler, status, count(*) AS count FROM deliveries WHERE status IN ('pending', 'failed') GROUP BY handler, status
     UNION ALL
     SELECT handler, status, count(*) AS count FROM deliveries WHERE status = 'running' GROUP BY handler, status
     UNION ALL
     SELECT handler, status, count(*) AS count FROM deliveries WHERE status = 'dead' GROUP BY handler, status
     ORDER BY handler, status`,
  );
  const oldest = await db.query<{ due: number | null }>("SELECT min(due_at) AS due FROM deliveries WHERE status IN ('pending', 'failed')");
  return { byHandlerAndStatus: counts.rows, oldestDueAt: oldest.rows[0]?.due ?? null };
}
