// Rows as either backend returns them, turned into the storage contract's objects: one mapping, so both answer alike.
import type { EventType } from '../chatlio/index.js';
import type { IdCodec } from './ids.js';
import type { Alert, AlertAction, AlertKind, Attempt, AttemptOutcome, Delivery, DeliveryStatus, EventRow, FieldError, RejectionRow } from './storage.js';

export const EVENT_COLUMNS = 'seq, type, received_at, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating';

export type RawEvent = {
  seq: number;
  type: EventType;
  received_at: number;
  raw: Buffer;
  conversation_uuid: string | null;
  visitor_uuid: string | null;
  visitor_email: string | null;
  visitor_name: string | null;
  rating: 'up' | 'down' | null;
};

export function toEventRow(row: RawEvent, ids: IdCodec): EventRow {
  return {
    seq: row.seq,
    id: ids.formatEventId(row.seq),
    type: row.type,
    receivedAt: row.received_at,
    raw: row.raw,
    conversationUUID: row.conversation_uuid,
    visitorUUID: row.visitor_uuid,
    visitorEmail: row.visitor_email,
    visitorName: row.visitor_name,
    rating: row.rating,
  };
}

export const DELIVERY_COLUMNS =
  'id, event_seq, alert_id, alert_action, handler, status, attempts, due_at, created_at, updated_at, manual, last_error, last_status_code, external_id, state, cancelled_by';

export type RawDelivery = {
  id: number;
  event_seq: number | null;
  alert_id: number | null;
  alert_action: AlertAction | null;
  handler: string;
  status: DeliveryStatus;
  attempts: number;
  due_at: number | null;
  created_at: number;
  updated_at: number;
  /** SQLite has no boolean: 0 or 1 there. */
  manual: boolean | number;
  last_error: string | null;
  last_status_code: number | null;
  external_id: string | null;
  state: string | null;
  cancelled_by: number | null;
};

export function toDelivery(row: RawDelivery, ids: IdCodec): Delivery {
  return {
    id: ids.formatDeliveryId(row.id),
    seq: row.id,
    eventId: row.event_seq === null ? null : ids.formatEventId(row.event_seq),
    eventSeq: row.event_seq,
    alertId: row.alert_id,
    alertAction: row.alert_action,
    handler: row.handler,
    status: row.status,
    attempts: row.attempts,
    dueAt: row.due_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    manual: row.manual === true || row.manual === 1,
    lastError: row.last_error,
    lastStatusCode: row.last_status_code,
    externalId: row.external_id,
    state: row.state === null ? undefined : (JSON.parse(row.state) as unknown),
    cancelledBy: row.cancelled_by === null ? null : ids.formatEventId(row.cancelled_by),
  };
}

export type RawAttempt = {
  attempt: number;
  started_at: number;
  duration_ms: number | null;
  outcome: AttemptOutcome | null;
  status_code: number | null;
  error: string | null;
  response: string | null;
};

export function toAttempt(row: RawAttempt): Attempt {
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

export type RawRejection = { id: number; type: EventType; received_at: number; raw: Buffer; errors: string };

export const toRejection = (row: RawRejection): RejectionRow => ({
  id: row.id,
  type: row.type,
  receivedAt: row.received_at,
  raw: row.raw,
  errors: JSON.parse(row.errors) as FieldError[],
});

export const ALERT_COLUMNS = 'id, kind, subject, opened_at, resolved_at, detail';

export type RawAlert = { id: number; kind: AlertKind; subject: string; opened_at: number; resolved_at: number | null; detail: string };

export function toAlert(row: RawAlert): Alert {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at,
    detail: JSON.parse(row.detail) as Alert['detail'],
  };
}
