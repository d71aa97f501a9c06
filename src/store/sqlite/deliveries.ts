// The deliveries and delivery_attempts tables: planned rows, claims with leases, attempts, listing and redelivering.
import { randomUUID } from 'node:crypto';
import { DELIVERY_COLUMNS, toAttempt, toDelivery, type RawAttempt, type RawDelivery } from '../rows.js';
import type { Db } from './db.js';
import {
  DELIVERY_STATUSES,
  type Attempt,
  type AttemptRecord,
  type Backlog,
  type ClaimRequest,
  type ClaimedDelivery,
  type Delivery,
  type DeliveryFilter,
  type DeliveryPlan,
  type DeliveryStatus,
} from '../storage.js';
import { ERROR_MAX_CHARS, RESPONSE_MAX_CHARS, cut } from '../deliveries.js';
import type { IdCodec } from '../ids.js';

/** Statuses the worker picks up once due: never tried yet, or failed and waiting for its retry. */
const WAITING = ['pending', 'failed'] as const;
const BACKLOG = ['pending', 'failed', 'running', 'dead'] as const;


const zeroCounts = () => Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<DeliveryStatus, number>;

export type DeliveryStore = ReturnType<typeof deliveryStore>;

export function deliveryStore(db: Db, ids: IdCodec) {
  const insert = db.prepare<Record<string, unknown>>(`
    INSERT INTO deliveries (event_seq, handler, status, due_at, created_at, updated_at, conversation_uuid)
    VALUES (@eventSeq, @handler, 'pending', @dueAt, @now, @now, @conversationUUID)`);
  const cancelEscalation = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'cancelled', due_at = NULL, cancelled_by = @bySeq, updated_at = @now
    WHERE conversation_uuid = @conversationUUID AND handler = @handler AND status IN ('pending', 'failed') AND event_seq < @bySeq`);
  const runningWithLease = db.prepare<Record<string, unknown>, { n: number }>(
    "SELECT count(*) AS n FROM deliveries WHERE status = 'running' AND handler = @handler AND lease_until > @now",
  );
  const dueRows = db.prepare<Record<string, unknown>, { id: number; due_at: number; event_seq: number; conversation_uuid: string | null }>(`
    SELECT id, due_at, event_seq, conversation_uuid FROM deliveries WHERE status = @status AND handler = @handler AND due_at <= @now
    ORDER BY due_at, id LIMIT @limit`);
  // A later event of the conversation, of a type that cancels this handler's escalations (the events_conversation index).
  const followedBy = db.prepare<Record<string, unknown>, { seq: number | null }>(`
    SELECT min(seq) AS seq FROM events
    WHERE conversation_uuid = @conversationUUID AND seq > @eventSeq AND type IN (SELECT value FROM json_each(@types))`);
  const cancelOne = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'cancelled', due_at = NULL, cancelled_by = @bySeq, updated_at = @now WHERE id = @id`);
  const markRunning = db.prepare<Record<string, unknown>, RawDelivery>(`
    UPDATE deliveries SET status = 'running', attempts = attempts + 1, due_at = NULL, updated_at = @now,
      lease_until = @leaseUntil, claim_token = @claimToken
    WHERE id = @id RETURNING ${DELIVERY_COLUMNS}`);
  const openAttempt = db.prepare<Record<string, unknown>, { id: number }>(`
    INSERT INTO delivery_attempts (delivery_id, attempt, started_at) VALUES (@id, @attempt, @now) RETURNING id`);
  const nextDue = db.prepare<Record<string, unknown>, { due: number | null }>(
    'SELECT MIN(due_at) AS due FROM deliveries WHERE status = @status AND handler = @handler',
  );
  const closeAttempt = db.prepare<Record<string, unknown>>(`
    UPDATE delivery_attempts SET duration_ms = @durationMs, outcome = @outcome, status_code = @statusCode, error = @error, response = @response
    WHERE id = @attemptId AND outcome IS NULL`);
  const finish = db.prepare<Record<string, unknown>, { handler: string }>(`
    UPDATE deliveries SET status = @status, due_at = @dueAt, updated_at = @now, last_error = @error, last_status_code = @statusCode,
      external_id = COALESCE(@externalId, external_id), state = COALESCE(@state, state),
      manual = CASE WHEN @status IN ('succeeded', 'dead') THEN 0 ELSE manual END,
      lease_until = NULL, claim_token = NULL
    WHERE id = @id AND claim_token = @claimToken AND status = 'running' RETURNING handler`);
  // The counter behind the "failed N times in a row" alert: reset by a success, raised by a failure.
  const health = db.prepare<Record<string, unknown>>(`
    INSERT INTO handler_health (handler, consecutive_failures, last_error, last_status_code, updated_at)
    VALUES (@handler, @failures, @error, @statusCode, @now)
    ON CONFLICT (handler) DO UPDATE SET
      consecutive_failures = CASE WHEN @failures = 0 THEN 0 ELSE consecutive_failures + 1 END,
      last_error = COALESCE(@error, last_error), last_status_code = COALESCE(@statusCode, last_status_code), updated_at = @now`);
  const expired = db.prepare<Record<string, unknown>, { id: number }>(
    "SELECT id FROM deliveries WHERE status = 'running' AND lease_until <= @now",
  );
  const interruptAttempts = db.prepare<Record<string, unknown>>(`
    UPDATE delivery_attempts SET outcome = 'interrupted', error = 'the worker stopped during this attempt (its lease ran out)'
    WHERE delivery_id = @id AND outcome IS NULL`);
  const requeueExpired = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'pending', due_at = @now, updated_at = @now, last_error = 'interrupted: the worker stopped during the attempt',
      lease_until = NULL, claim_token = NULL
    WHERE id = @id AND status = 'running' AND lease_until <= @now`);
  const bySeq = db.prepare<[number], RawDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`);
  const byEvent = db.prepare<[number], RawDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_seq = ? ORDER BY id`);
  const byEvents = db.prepare<[string], RawDelivery>(
    `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_seq IN (SELECT value FROM json_each(?)) ORDER BY event_seq, id`,
  );
  const attemptsOf = db.prepare<[number], RawAttempt>(
    'SELECT attempt, started_at, duration_ms, outcome, status_code, error, response FROM delivery_attempts WHERE delivery_id = ? ORDER BY id',
  );
  // One statement per filter combination, so SQLite can use the (status, handler) index instead of an OR it cannot.
  const listStatement = (where: string) =>
    db.prepare<Record<string, unknown>, RawDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${where} id < @before ORDER BY id DESC LIMIT @limit`);
  const lists = {
    all: listStatement(''),
    status: listStatement('status = @status AND'),
    handler: listStatement('handler = @handler AND'),
    both: listStatement('status = @status AND handler = @handler AND'),
  };
  const redeliverOne = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'pending', due_at = @now, updated_at = @now, manual = 1, cancelled_by = NULL
    WHERE id = @id AND status <> 'running'`);
  // Events received in [since, until): seq bounds (widened for clock slack) first, then received_at exactly. An alert's
  // notification (no event) is redelivered only when no range is given.
  const redeliverBulk = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'pending', due_at = @now, updated_at = @now, manual = 1, cancelled_by = NULL
    WHERE status = @status AND (@handler IS NULL OR handler = @handler)
      AND (event_seq IS NULL OR event_seq >= @lowSeq AND event_seq < @highSeq)
      AND (@since IS NULL AND @until IS NULL OR EXISTS (
        SELECT 1 FROM events e WHERE e.seq = deliveries.event_seq
          AND e.received_at >= coalesce(@since, e.received_at) AND e.received_at < coalesce(@until, e.received_at + 1)))`);
  const countStatusForEvents = db.prepare<[number, number, number, number], { status: DeliveryStatus; count: number }>(
    `SELECT d.status, COUNT(*) AS count FROM deliveries d JOIN events e ON e.seq = d.event_seq
     WHERE d.event_seq >= ? AND d.event_seq < ? AND e.received_at >= ? AND e.received_at < ? GROUP BY d.status`,
  );
  // One status at a time, so each count walks only its own stretch of the (status, handler, due_at) index.
  const countByHandler = db.prepare<[string], { handler: string; count: number }>(
    'SELECT handler, COUNT(*) AS count FROM deliveries WHERE status = ? GROUP BY handler',
  );
  const oldestDue = db.prepare<[string], { due: number | null }>('SELECT MIN(due_at) AS due FROM deliveries WHERE status = ?');

  const create = (delivery: { eventSeq: number; handler: string; dueAt: number; conversationUUID: string | null }, now: number): number =>
    Number(insert.run({ ...delivery, now }).lastInsertRowid);

  /** Marks one due row running under a fresh claim and opens its attempt; or cancels it if a later event already answered. */
  function claimOne(
    row: { id: number; event_seq: number; conversation_uuid: string | null },
    request: ClaimRequest,
    now: number,
  ): ClaimedDelivery | undefined {
    if (row.conversation_uuid !== null && request.unlessFollowedBy.length > 0) {
      const by = followedBy.get({ conversationUUID: row.conversation_uuid, eventSeq: row.event_seq, types: JSON.stringify(request.unlessFollowedBy) })?.seq;
      if (typeof by === 'number') {
        cancelOne.run({ id: row.id, bySeq: by, now });
        return undefined;
      }
    }
    const claimToken = randomUUID();
    const delivery = toDelivery(markRunning.get({ id: row.id, now, leaseUntil: now + request.leaseMs, claimToken })!, ids);
    const attempt = openAttempt.get({ id: row.id, attempt: delivery.attempts, now })!;
    return { ...delivery, attemptId: attempt.id, attempt: delivery.attempts, claimToken };
  }

  return {
    /** Inside the event's transaction: the planner's deliveries and cancellations for the new event `eventSeq`. */
    applyPlan(eventSeq: number, conversationUUID: string | null, plan: DeliveryPlan, now: number): number {
      for (const planned of plan.create) create({ eventSeq, ...planned }, now);
      if (conversationUUID !== null) {
        for (const cancel of plan.cancel) cancelEscalation.run({ ...cancel, bySeq: eventSeq, now });
      }
      return plan.create.length;
    },

    /** Call inside an IMMEDIATE transaction. */
    claimDue(request: ClaimRequest, now: number): ClaimedDelivery[] {
      const limit = request.concurrency - runningWithLease.get({ handler: request.handler, now })!.n;
      if (limit <= 0) return [];
      // The most overdue first, whether a first attempt or a retry: a backlog of new deliveries must not starve retries.
      const due = WAITING.flatMap((status) => dueRows.all({ status, handler: request.handler, now, limit }))
        .sort((a, b) => a.due_at - b.due_at || a.id - b.id)
        .slice(0, limit);
      return due.map((row) => claimOne(row, request, now)).filter((claimed) => claimed !== undefined);
    },

    /** Call inside an IMMEDIATE transaction; false (and nothing written) when the claim token no longer holds. */
    recordAttempt(record: AttemptRecord, now: number): boolean {
      const error = cut(record.error, ERROR_MAX_CHARS);
      const moved = finish.get({
        id: record.deliverySeq,
        claimToken: record.claimToken,
        status: record.next.status,
        dueAt: 'dueAt' in record.next ? record.next.dueAt : null,
        now,
        error,
        statusCode: record.statusCode ?? null,
        externalId: record.externalId ?? null,
        state: record.state === undefined ? null : JSON.stringify(record.state),
      });
      if (moved === undefined) return false;
      if (record.outcome !== 'interrupted') {
        const failed = record.outcome === 'failed';
        health.run({ handler: moved.handler, failures: failed ? 1 : 0, error: failed ? error : null, statusCode: failed ? (record.statusCode ?? null) : null, now });
      }
      closeAttempt.run({
        attemptId: record.attemptId,
        durationMs: Math.round(record.durationMs),
        outcome: record.outcome,
        statusCode: record.statusCode ?? null,
        error,
        response: cut(record.response, RESPONSE_MAX_CHARS),
      });
      return true;
    },

    /** Whether any lease has run out (a read, so an idle poll takes no write lock). */
    hasExpiredLeases(now: number): boolean {
      return expired.get({ now }) !== undefined;
    },

    /** Call inside an IMMEDIATE transaction: expired claims go back to pending, due now, their open attempt interrupted. */
    reapExpired(now: number): number {
      let reaped = 0;
      for (const { id } of expired.all({ now })) {
        interruptAttempts.run({ id });
        reaped += requeueExpired.run({ id, now }).changes;
      }
      return reaped;
    },

    /** The earliest due time among the handlers' waiting deliveries, or undefined when none waits. */
    nextDueAt(handlers: Iterable<string>): number | undefined {
      let earliest: number | undefined;
      for (const handler of handlers) {
        for (const status of WAITING) {
          const due = nextDue.get({ status, handler })?.due;
          if (typeof due === 'number' && (earliest === undefined || due < earliest)) earliest = due;
        }
      }
      return earliest;
    },

    get(seq: number): Delivery | undefined {
      const row = bySeq.get(seq);
      return row ? toDelivery(row, ids) : undefined;
    },

    forEvent(eventSeq: number): Delivery[] {
      return byEvent.all(eventSeq).map((row) => toDelivery(row, ids));
    },

    forEvents(eventSeqs: readonly number[]): Delivery[] {
      return byEvents.all(JSON.stringify(eventSeqs)).map((row) => toDelivery(row, ids));
    },

    attempts(deliverySeq: number): Attempt[] {
      return attemptsOf.all(deliverySeq).map(toAttempt);
    },

    /** Newest first; `before` is the seq of the last delivery of the previous page. */
    list(filter: DeliveryFilter, page: { before?: number; limit: number }): Delivery[] {
      const statement = filter.status ? (filter.handler ? lists.both : lists.status) : filter.handler ? lists.handler : lists.all;
      const params: Record<string, unknown> = { before: page.before ?? Number.MAX_SAFE_INTEGER, limit: page.limit };
      if (filter.status) params.status = filter.status;
      if (filter.handler) params.handler = filter.handler;
      return statement.all(params).map((row) => toDelivery(row, ids));
    },

    /** Call inside an IMMEDIATE transaction: creates `create` due now, then puts the targets back to pending as manual. */
    redeliverEvent(eventSeq: number, input: { create: readonly string[]; handlers?: readonly string[] }, now: number): Delivery[] {
      const existing = new Set(byEvent.all(eventSeq).map((row) => row.handler));
      for (const handler of input.create) {
        if (!existing.has(handler)) create({ eventSeq, handler, dueAt: now, conversationUUID: null }, now);
      }
      const wanted = (handler: string) => input.handlers === undefined || input.handlers.includes(handler);
      for (const row of byEvent.all(eventSeq)) if (wanted(row.handler)) redeliverOne.run({ id: row.id, now });
      return byEvent.all(eventSeq).filter((row) => wanted(row.handler)).map((row) => toDelivery(row, ids));
    },

    /** Bulk redelivery of the deliveries in `status` of events with seq in [lowSeq, highSeq) received in [since, until). */
    redeliverAll(
      filter: { status: DeliveryStatus; handler?: string; since?: number; until?: number; lowSeq: number; highSeq: number },
      now: number,
    ): number {
      return redeliverBulk.run({
        status: filter.status,
        handler: filter.handler ?? null,
        since: filter.since ?? null,
        until: filter.until ?? null,
        lowSeq: filter.lowSeq,
        highSeq: filter.highSeq,
        now,
      }).changes;
    },

    /**
     * Deliveries of the events received in [since, until), by status: the event_seq index narrows to [fromSeq, toSeq)
     * (bounds already widened for clock slack), received_at decides exactly.
     */
    countsByStatusForEvents(fromSeq: number, toSeq: number, range: { since: number; until: number }): Record<DeliveryStatus, number> {
      const counts = zeroCounts();
      for (const row of countStatusForEvents.all(fromSeq, toSeq, range.since, range.until)) counts[row.status] = row.count;
      return counts;
    },

    backlog(): Backlog {
      const byHandlerAndStatus = BACKLOG.flatMap((status) => countByHandler.all(status).map((row) => ({ ...row, status })));
      const dues = WAITING.map((status) => oldestDue.get(status)?.due).filter((due) => typeof due === 'number');
      return { byHandlerAndStatus, oldestDueAt: dues.length > 0 ? Math.min(...dues) : null };
    },
  };
}
