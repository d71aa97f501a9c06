// The deliveries and delivery_attempts tables: planning, claiming, recording, listing and redelivering.
import type { Db } from './db.js';
import { formatEventId } from './events.js';
import { sequenceIds } from './ids.js';

export const DELIVERY_STATUSES = ['pending', 'running', 'failed', 'succeeded', 'dead', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Statuses the worker picks up once due: never tried yet, or failed and waiting for its retry. */
const WAITING: readonly DeliveryStatus[] = ['pending', 'failed'];

export type AttemptOutcome = 'succeeded' | 'failed' | 'interrupted';

export const ERROR_MAX_CHARS = 1000;
export const RESPONSE_MAX_CHARS = 4096;

export type NewDelivery = {
  eventSeq: number;
  handler: string;
  dueAt: number;
  /** Set for escalations only: a later event of the same conversation may cancel the delivery. */
  conversationUUID: string | null;
};

export type Delivery = {
  id: string;
  seq: number;
  eventId: string;
  eventSeq: number;
  handler: string;
  status: DeliveryStatus;
  attempts: number;
  dueAt: number | null;
  createdAt: number;
  updatedAt: number;
  manual: boolean;
  lastError: string | null;
  lastStatusCode: number | null;
  externalId: string | null;
  state: unknown;
  cancelledBy: string | null;
};

export type Attempt = {
  attempt: number;
  startedAt: number;
  durationMs: number | null;
  outcome: AttemptOutcome | null;
  statusCode: number | null;
  error: string | null;
  response: string | null;
};

/** A delivery the worker has just marked running, with the attempt row it opened. */
export type ClaimedDelivery = Delivery & { attemptId: number; attempt: number };

export type AttemptRecord = {
  deliverySeq: number;
  attemptId: number;
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode?: number;
  error?: string;
  response?: string;
  externalId?: string;
  state?: unknown;
  /** What the delivery becomes: done, dead, or waiting again until dueAt. */
  next: { status: 'succeeded' | 'dead' } | { status: 'failed' | 'pending'; dueAt: number };
};

export type DeliveryFilter = { status?: DeliveryStatus; handler?: string; eventSeq?: number };

const deliveryIds = sequenceIds('dlv_');
export const formatDeliveryId = deliveryIds.format;
export const parseDeliveryId = deliveryIds.parse;

export function cut(text: string | undefined | null, max: number): string | null {
  if (text === undefined || text === null) return null;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

type RawDelivery = {
  id: number;
  event_seq: number;
  handler: string;
  status: DeliveryStatus;
  attempts: number;
  due_at: number | null;
  created_at: number;
  updated_at: number;
  manual: number;
  last_error: string | null;
  last_status_code: number | null;
  external_id: string | null;
  state: string | null;
  cancelled_by: number | null;
};

type RawAttempt = {
  attempt: number;
  started_at: number;
  duration_ms: number | null;
  outcome: AttemptOutcome | null;
  status_code: number | null;
  error: string | null;
  response: string | null;
};

const COLUMNS =
  'id, event_seq, handler, status, attempts, due_at, created_at, updated_at, manual, last_error, last_status_code, external_id, state, cancelled_by';

function toDelivery(row: RawDelivery): Delivery {
  return {
    id: formatDeliveryId(row.id),
    seq: row.id,
    eventId: formatEventId(row.event_seq),
    eventSeq: row.event_seq,
    handler: row.handler,
    status: row.status,
    attempts: row.attempts,
    dueAt: row.due_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    manual: row.manual === 1,
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    externalId: row.external_id,
    state: row.state === null ? undefined : (JSON.parse(row.state) as unknown),
    cancelledBy: row.cancelled_by === null ? null : formatEventId(row.cancelled_by),
  };
}

function toAttempt(row: RawAttempt): Attempt {
  return {
    attempt: row.attempt,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    response: row.response,
  };
}

export type DeliveryStore = ReturnType<typeof deliveryStore>;

export function deliveryStore(db: Db) {
  const insert = db.prepare<Record<string, unknown>>(`
    INSERT INTO deliveries (event_seq, handler, status, due_at, created_at, updated_at, conversation_uuid)
    VALUES (@eventSeq, @handler, 'pending', @dueAt, @now, @now, @conversationUUID)`);
  const cancelEscalation = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'cancelled', due_at = NULL, cancelled_by = @bySeq, updated_at = @now
    WHERE conversation_uuid = @conversationUUID AND handler = @handler AND status IN ('pending', 'failed') AND event_seq < @bySeq`);
  const interruptAttempts = db.prepare<[]>(`
    UPDATE delivery_attempts SET outcome = 'interrupted', error = 'the process stopped during this attempt'
    WHERE outcome IS NULL AND delivery_id IN (SELECT id FROM deliveries WHERE status = 'running')`);
  const requeueRunning = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'pending', due_at = @now, updated_at = @now, last_error = 'interrupted by a restart'
    WHERE status = 'running'`);
  const dueIds = db.prepare<Record<string, unknown>, { id: number; due_at: number }>(`
    SELECT id, due_at FROM deliveries WHERE status = @status AND handler = @handler AND due_at <= @now
    ORDER BY due_at, id LIMIT @limit`);
  const markRunning = db.prepare<Record<string, unknown>, RawDelivery>(`
    UPDATE deliveries SET status = 'running', attempts = attempts + 1, due_at = NULL, updated_at = @now
    WHERE id = @id RETURNING ${COLUMNS}`);
  const openAttempt = db.prepare<Record<string, unknown>, { id: number }>(`
    INSERT INTO delivery_attempts (delivery_id, attempt, started_at) VALUES (@id, @attempt, @now) RETURNING id`);
  const nextDue = db.prepare<Record<string, unknown>, { due: number | null }>(
    'SELECT MIN(due_at) AS due FROM deliveries WHERE status = @status AND handler = @handler',
  );
  const closeAttempt = db.prepare<Record<string, unknown>>(`
    UPDATE delivery_attempts SET duration_ms = @durationMs, outcome = @outcome, status_code = @statusCode, error = @error, response = @response
    WHERE id = @attemptId`);
  const finish = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = @status, due_at = @dueAt, updated_at = @now, last_error = @error, last_status_code = @statusCode,
      external_id = COALESCE(@externalId, external_id), state = COALESCE(@state, state),
      manual = CASE WHEN @status IN ('succeeded', 'dead') THEN 0 ELSE manual END
    WHERE id = @id`);
  const bySeq = db.prepare<[number], RawDelivery>(`SELECT ${COLUMNS} FROM deliveries WHERE id = ?`);
  const byEvent = db.prepare<[number], RawDelivery>(`SELECT ${COLUMNS} FROM deliveries WHERE event_seq = ? ORDER BY id`);
  const attemptsOf = db.prepare<[number], RawAttempt>(
    'SELECT attempt, started_at, duration_ms, outcome, status_code, error, response FROM delivery_attempts WHERE delivery_id = ? ORDER BY id',
  );
  // One statement per filter combination, so SQLite can use the (status, handler) index instead of an OR it cannot.
  const listStatement = (where: string) =>
    db.prepare<Record<string, unknown>, RawDelivery>(`SELECT ${COLUMNS} FROM deliveries WHERE ${where} id < @before ORDER BY id DESC LIMIT @limit`);
  const lists = {
    all: listStatement(''),
    status: listStatement('status = @status AND'),
    handler: listStatement('handler = @handler AND'),
    both: listStatement('status = @status AND handler = @handler AND'),
  };
  const redeliverOne = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'pending', due_at = @now, updated_at = @now, manual = 1, cancelled_by = NULL
    WHERE id = @id AND status <> 'running'`);
  const redeliverBulk = db.prepare<Record<string, unknown>>(`
    UPDATE deliveries SET status = 'pending', due_at = @now, updated_at = @now, manual = 1, cancelled_by = NULL
    WHERE status = @status AND (@handler IS NULL OR handler = @handler)`);
  const countStatus = db.prepare<[], { status: DeliveryStatus; count: number }>(
    'SELECT status, COUNT(*) AS count FROM deliveries GROUP BY status',
  );
  const countStatusForEvents = db.prepare<[number, number], { status: DeliveryStatus; count: number }>(
    'SELECT status, COUNT(*) AS count FROM deliveries WHERE event_seq >= ? AND event_seq < ? GROUP BY status',
  );
  const countHandlerStatus = db.prepare<[], { handler: string; status: DeliveryStatus; count: number }>(
    'SELECT handler, status, COUNT(*) AS count FROM deliveries GROUP BY handler, status',
  );
  const waitingByHandler = db.prepare<[], { handler: string; count: number }>(
    "SELECT handler, COUNT(*) AS count FROM deliveries WHERE status IN ('pending', 'failed') GROUP BY handler",
  );
  const oldestDue = db.prepare<[], { due: number | null }>(
    "SELECT MIN(due_at) AS due FROM deliveries WHERE status IN ('pending', 'failed')",
  );

  return {
    create(delivery: NewDelivery, now = Date.now()): number {
      return Number(insert.run({ ...delivery, now }).lastInsertRowid);
    },

    /** Cancels the handler's waiting escalations for the conversation, planned by earlier events; returns how many. */
    cancelEscalations(input: { handler: string; conversationUUID: string; bySeq: number }, now = Date.now()): number {
      return cancelEscalation.run({ ...input, now }).changes;
    },

    /** At start: what a dead process left running goes back to pending, due now; its open attempt is marked interrupted. */
    recoverInterrupted(now = Date.now()): number {
      return db.transaction(() => {
        interruptAttempts.run();
        return requeueRunning.run({ now }).changes;
      }).immediate();
    },

    /** In one short transaction: marks up to `limit` due deliveries of the handler running and opens an attempt for each. */
    claimDue(handler: string, limit: number, now = Date.now()): ClaimedDelivery[] {
      if (limit <= 0) return [];
      return db.transaction(() => {
        // The most overdue first, whether a first attempt or a retry: a backlog of new deliveries must not starve retries.
        const due = WAITING.flatMap((status) => dueIds.all({ status, handler, now, limit }))
          .sort((a, b) => a.due_at - b.due_at || a.id - b.id)
          .slice(0, limit);
        return due.map(({ id }) => {
          const delivery = toDelivery(markRunning.get({ id, now })!);
          const attempt = openAttempt.get({ id, attempt: delivery.attempts, now })!;
          return { ...delivery, attemptId: attempt.id, attempt: delivery.attempts };
        });
      }).immediate();
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

    /** In one short transaction: closes the attempt row and moves the delivery on. */
    recordAttempt(record: AttemptRecord, now = Date.now()): void {
      const error = cut(record.error, ERROR_MAX_CHARS);
      db.transaction(() => {
        closeAttempt.run({
          attemptId: record.attemptId,
          durationMs: Math.round(record.durationMs),
          outcome: record.outcome,
          statusCode: record.statusCode ?? null,
          error,
          response: cut(record.response, RESPONSE_MAX_CHARS),
        });
        finish.run({
          id: record.deliverySeq,
          status: record.next.status,
          dueAt: 'dueAt' in record.next ? record.next.dueAt : null,
          now,
          error,
          statusCode: record.statusCode ?? null,
          externalId: record.externalId ?? null,
          state: record.state === undefined ? null : JSON.stringify(record.state),
        });
      }).immediate();
    },

    get(seq: number): Delivery | undefined {
      const row = bySeq.get(seq);
      return row ? toDelivery(row) : undefined;
    },

    forEvent(eventSeq: number): Delivery[] {
      return byEvent.all(eventSeq).map(toDelivery);
    },

    attempts(deliverySeq: number): Attempt[] {
      return attemptsOf.all(deliverySeq).map(toAttempt);
    },

    /** Newest first; `before` is the seq of the last delivery of the previous page. */
    list(filter: { status?: DeliveryStatus; handler?: string }, page: { before?: number; limit: number }): Delivery[] {
      const statement = filter.status ? (filter.handler ? lists.both : lists.status) : filter.handler ? lists.handler : lists.all;
      const params: Record<string, unknown> = { before: page.before ?? Number.MAX_SAFE_INTEGER, limit: page.limit };
      if (filter.status) params.status = filter.status;
      if (filter.handler) params.handler = filter.handler;
      return statement.all(params).map(toDelivery);
    },

    /** Puts one delivery back to pending, due now, keeping its attempts; a running one is left alone. */
    redeliver(seq: number, now = Date.now()): boolean {
      return redeliverOne.run({ id: seq, now }).changes > 0;
    },

    /** Bulk redelivery: every delivery in `status` (of `handler`, if given) back to pending, due now; returns how many. */
    redeliverAll(filter: { status: DeliveryStatus; handler?: string }, now = Date.now()): number {
      return redeliverBulk.run({ status: filter.status, handler: filter.handler ?? null, now }).changes;
    },

    countsByStatus(): Record<DeliveryStatus, number> {
      const counts = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
      for (const row of countStatus.all()) counts[row.status] = row.count;
      return counts;
    },

    /** Deliveries of the events with seq in [fromSeq, toSeq), by status (the event_seq index drives it). */
    countsByStatusForEvents(fromSeq: number, toSeq: number): Record<DeliveryStatus, number> {
      const counts = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
      for (const row of countStatusForEvents.all(fromSeq, toSeq)) counts[row.status] = row.count;
      return counts;
    },

    countsByHandlerStatus(): Array<{ handler: string; status: DeliveryStatus; count: number }> {
      return countHandlerStatus.all();
    },

    /** Deliveries waiting to run (pending or failed), per handler name. */
    waitingByHandler(): Map<string, number> {
      return new Map(waitingByHandler.all().map((row) => [row.handler, row.count]));
    },

    /** Milliseconds the longest-waiting due delivery has been overdue (0 when none is due). */
    oldestPendingAgeMs(now = Date.now()): number {
      const due = oldestDue.get()?.due;
      return typeof due === 'number' && due < now ? now - due : 0;
    },
  };
}
