// The storage contract: everything routes, the worker, retention, stats and the CLI need from a database, as plain data
// in and plain typed objects out. Two implementations sit behind it: src/store/sqlite/ (the embedded default) and
// src/store/postgres/ (several replicas on one database). No caller outside src/store/ ever sees SQL.
import type { EventIdentity, EventType } from '../chatlio/index.js';
import type { Searchable } from '../chatlio/searchable.js';

export type Backend = 'sqlite' | 'postgres';

/** Thrown by any call after close(): the readiness probe tells it apart from a database that refuses writes. */
export class StorageClosedError extends Error {
  override name = 'StorageClosedError';
}

// ---------------------------------------------------------------------------------------------------------------------
// Events

export type EventRow = {
  /** Arrival order within this database; never shown to the outside. */
  seq: number;
  /** The public id. */
  id: string;
  type: EventType;
  receivedAt: number;
  raw: Buffer;
  conversationUUID: string | null;
  visitorUUID: string | null;
  visitorEmail: string | null;
  visitorName: string | null;
  rating: 'up' | 'down' | null;
};

/** What the planner decided for one new event: applied by the store in the event's own transaction. */
export type DeliveryPlan = {
  /** One delivery per matching handler. */
  create: Array<{
    handler: string;
    dueAt: number;
    /** Set for escalations only (handlers with unlessFollowedBy): a later event of the conversation may cancel it. */
    conversationUUID: string | null;
  }>;
  /** Waiting escalations of these handlers for this conversation, planned by earlier events, become cancelled. */
  cancel: Array<{ handler: string; conversationUUID: string }>;
};

export type NewEvent = {
  type: EventType;
  receivedAt: number;
  raw: Buffer;
  /** sha256 of type + "\n" + raw: the same bytes on the same route are one event. */
  bodySha256: Buffer;
  identity: EventIdentity;
  /** Full-text words, tags and first-response seconds, indexed with the event. */
  searchable: Searchable;
  plan: DeliveryPlan;
};

export type IngestResult = { seq: number; id: string; duplicate: boolean; deliveriesCreated: number };

// ---------------------------------------------------------------------------------------------------------------------
// Queries

/** One search term: a word (one token) or a phrase (several), already normalised by tokenize(); prefix = trailing *. */
export type SearchTerm = { tokens: string[]; prefix: boolean };

export type EventFilter = {
  types?: EventType[];
  conversation?: string;
  /** A visitor UUID, or an email (anything with an @), matched case-insensitively. */
  visitor?: string;
  rating?: 'up' | 'down';
  /** Already normalised (lower-case); exact match. */
  tag?: string;
  /** Unix ms, inclusive. */
  since?: number;
  /** Unix ms, exclusive. */
  until?: number;
  /** All terms must match the event's text (from parseSearchQuery). */
  search?: SearchTerm[];
  /** The event has a delivery in this status (to this handler when given). */
  delivery?: { status: DeliveryStatus; handler?: string };
};

/** Newest first; `next` is the seq to pass as `before` for the following page, null at the end. */
export type EventPage = { rows: EventRow[]; next: number | null };

export type Range = { since: number; until: number };

// ---------------------------------------------------------------------------------------------------------------------
// Rejections

export type FieldError = { path: string; message: string };

export type RejectionRow = { id: number; type: EventType; receivedAt: number; raw: Buffer; errors: FieldError[] };

// ---------------------------------------------------------------------------------------------------------------------
// Deliveries

export const DELIVERY_STATUSES = ['pending', 'running', 'failed', 'succeeded', 'dead', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type AttemptOutcome = 'succeeded' | 'failed' | 'interrupted';

export type Delivery = {
  id: string;
  seq: number;
  /** The event this delivery carries; null for an alert notification. */
  eventId: string | null;
  eventSeq: number | null;
  /** The alert this delivery notifies about (and whether it opens or resolves it); null for an event's delivery. */
  alertId: number | null;
  alertAction: AlertAction | null;
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

export type ClaimRequest = {
  handler: string;
  /** The most this handler may have running at once, across every replica on the database (a remote's rate limit is global). */
  concurrency: number;
  /** How long the claim holds before the reaper may hand the delivery to someone else: the handler's timeout plus a margin. */
  leaseMs: number;
  /** Event types that cancel this handler's escalations: checked again at claim time, since they may commit on another replica after planning. */
  unlessFollowedBy: readonly EventType[];
};

/** A delivery just marked running, with its open attempt and the claim token that alone may record its outcome. */
export type ClaimedDelivery = Delivery & { attemptId: number; attempt: number; claimToken: string };

export type AttemptRecord = {
  deliverySeq: number;
  attemptId: number;
  claimToken: string;
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

export type DeliveryFilter = { status?: DeliveryStatus; handler?: string };

/**
 * For metrics: the backlog only (waiting, running and dead rows: the ones someone may have to act on), never a scan of
 * succeeded or cancelled deliveries, which only grow.
 */
export type Backlog = {
  byHandlerAndStatus: Array<{ handler: string; status: 'pending' | 'failed' | 'running' | 'dead'; count: number }>;
  /** Unix ms of the longest-overdue waiting delivery's due time, null when none waits. */
  oldestDueAt: number | null;
};

/** A page of events: up to `limit` rows strictly before `before` (a seq), newest first. */
export type EventPageOptions = {
  before?: number;
  limit: number;
  /**
   * Ends the page early once the stored bodies would pass this many bytes (it still holds at least one event): with
   * large bodies a page is bounded in memory, not only in rows. The backends read the sizes before the bodies.
   */
  maxBytes?: number;
};

/** How many of the candidate rows (their body sizes, in page order) one page takes under `limit` and `maxBytes`. */
export function rowsThatFit(sizes: readonly number[], limit: number, maxBytes = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  let taken = 0;
  for (const size of sizes.slice(0, limit)) {
    if (taken > 0 && bytes + size > maxBytes) break;
    bytes += size;
    taken += 1;
  }
  return taken;
}

// ---------------------------------------------------------------------------------------------------------------------
// Web inbox sessions

/** A signed-in browser: only the sha256 of its cookie's id is stored, so a database copy opens no session. */
export type UiSession = {
  /** sha256 of the random session id in the cookie, hex. */
  idHash: string;
  /** The per-session token every form posts back. */
  csrfToken: string;
  /** sha256 of the API token the session was opened with: rotating the token ends every session. */
  tokenFingerprint: string;
  createdAt: number;
  expiresAt: number;
};

// ---------------------------------------------------------------------------------------------------------------------
// Alerts: one row per episode of a condition; opening or resolving one creates the notify handlers' deliveries

export const ALERT_KINDS = ['dead', 'failing', 'overdue', 'silence', 'rejections'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertAction = 'trigger' | 'resolve';

/** What an alert says, kept as it was when it opened. */
export type AlertDetail = {
  /** What is wrong, one line. */
  summary: string;
  /** What to do about it. */
  advice: string;
  handler?: string;
  lastError?: string | null;
  lastStatusCode?: number | null;
  /** Where to look: the API view of the deliveries concerned. */
  link?: string;
};

export type Alert = {
  id: number;
  kind: AlertKind;
  /** The handler it is about, or "" for the relay as a whole (silence, rejections). */
  subject: string;
  openedAt: number;
  resolvedAt: number | null;
  detail: AlertDetail;
};

export type NewAlert = { kind: AlertKind; subject: string; detail: AlertDetail };

/** A handler's recent record, kept up to date by recordAttempt: the counter behind "failed N times in a row". */
export type HandlerHealth = {
  handler: string;
  /** Failed attempts since its last success. */
  consecutiveFailures: number;
  lastError: string | null;
  lastStatusCode: number | null;
  updatedAt: number;
};

// ---------------------------------------------------------------------------------------------------------------------
// The contract

export interface Storage {
  readonly backend: Backend;

  // Ingest: the event, its search row and its planned deliveries in one transaction (group-committed with the other
  // ingests of the same event-loop turn); resolves once durably committed. A duplicate plans and indexes nothing.
  ingest(event: NewEvent, now?: number): Promise<IngestResult>;

  // Events
  getEvent(seq: number): Promise<EventRow | undefined>;
  /** Public id → seq, undefined when the id is not one of ours. */
  parseEventId(id: string): number | undefined;
  listEvents(filter: EventFilter, page: EventPageOptions): Promise<EventPage>;
  /** Every event of a conversation, oldest first. */
  conversation(uuid: string): Promise<EventRow[]>;
  /** Deletes one event with its search row and deliveries; true if it existed. */
  deleteEvent(seq: number): Promise<boolean>;
  /** Erases a visitor (an email or a visitor UUID, and identifiers seen beside it) and the rejected bodies mentioning them. */
  deleteVisitor(key: string): Promise<{ events: number; rejections: number }>;
  /** Deletes up to `batch` of the oldest events received before `cutoff`; returns how many went. */
  deleteOlderThan(cutoff: number, batch: number): Promise<number>;

  // Stats over a time range
  countsByTypeAndDay(range: Range): Promise<Array<{ type: EventType; day: string; n: number }>>;
  ratings(range: Range): Promise<{ up: number; down: number }>;
  firstResponseSeconds(range: Range): Promise<number[]>;
  /** Deliveries of the events received in the range, by status. */
  deliveryCounts(range: Range): Promise<Record<DeliveryStatus, number>>;

  // Rejections (422 bodies), capped: the oldest beyond the cap are dropped.
  insertRejection(rejection: { type: EventType; receivedAt: number; raw: Buffer; errors: FieldError[] }): Promise<number>;
  getRejection(id: number): Promise<RejectionRow | undefined>;
  listRejections(page: { before?: number; limit: number }): Promise<RejectionRow[]>;
  removeRejection(id: number): Promise<void>;

  // Deliveries: the worker's side. Leases run on the database's clock (PostgreSQL's, so replicas agree; the process's on
  // SQLite) unless a caller passes `now`: claims, the concurrency count and the reaper then take that as the time, on
  // both backends, so a test can make a lease run out. The worker never passes it.
  /** In one short transaction: claims due deliveries of the handler (most overdue first) within its global concurrency. */
  claimDue(request: ClaimRequest, now?: number): Promise<ClaimedDelivery[]>;
  /** Closes the attempt and moves the delivery on, only while the claim token still matches; false if the claim was lost. */
  recordAttempt(record: AttemptRecord, now?: number): Promise<boolean>;
  /** Returns deliveries whose lease ran out (their worker died) to pending, due now, marking the open attempt interrupted. */
  reapExpiredLeases(now?: number): Promise<number>;
  /** The earliest due time among the handlers' waiting deliveries, or undefined when none waits. */
  nextDueAt(handlers: readonly string[]): Promise<number | undefined>;

  // Deliveries: the API's side
  getDelivery(seq: number): Promise<Delivery | undefined>;
  parseDeliveryId(id: string): number | undefined;
  deliveriesForEvent(eventSeq: number): Promise<Delivery[]>;
  /** Every delivery of these events, ordered by event then creation, in one query: what a page of the inbox shows. */
  deliveriesForEvents(eventSeqs: readonly number[]): Promise<Delivery[]>;
  attempts(deliverySeq: number): Promise<Attempt[]>;
  /** Newest first; `before` is the seq of the last delivery of the previous page. */
  listDeliveries(filter: DeliveryFilter, page: { before?: number; limit: number }): Promise<Delivery[]>;
  /**
   * In one transaction: creates `create` (handlers added after the event arrived, due now), then puts the event's
   * deliveries of `handlers` (all when undefined) back to pending, due now, as manual; a running one is left alone.
   */
  redeliverEvent(eventSeq: number, input: { create: string[]; handlers?: readonly string[] }, now?: number): Promise<Delivery[]>;
  /** Bulk redelivery: every delivery in `status` (of `handler`, of events received in [since, until) when given); returns how many. */
  redeliverAll(filter: { status: DeliveryStatus; handler?: string; since?: number; until?: number }, now?: number): Promise<number>;
  backlog(): Promise<Backlog>;

  // Web inbox sessions
  /** Stores a new session, and drops the expired ones while at it. */
  createSession(session: UiSession): Promise<void>;
  /** The session while it has not expired at `now`; undefined otherwise. */
  getSession(idHash: string, now?: number): Promise<UiSession | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Signs every browser out; returns how many sessions ended. */
  deleteAllSessions(): Promise<number>;

  // Alerts
  /**
   * Opens an alert and, in the same transaction, a delivery (due now, action trigger) for each of `notify`; undefined
   * without writing anything when an alert of the same kind and subject is already open (deduplicated across replicas).
   */
  openAlert(alert: NewAlert, notify: readonly string[], now?: number): Promise<Alert | undefined>;
  /**
   * Resolves an open alert and creates its "resolved" deliveries; undefined when it was not open (any more). Its
   * triggers still waiting are cancelled, so none goes out after the resolution; a handler never sent the trigger gets
   * no resolution either.
   */
  resolveAlert(id: number, notify: readonly string[], now?: number): Promise<Alert | undefined>;
  getAlert(id: number): Promise<Alert | undefined>;
  /** What names the alert in every message about it, unique across databases (PagerDuty's dedup_key, a Message-ID). */
  alertKey(id: number): string;
  openAlerts(): Promise<Alert[]>;
  /** Open and resolved alerts, newest first; `before` is the id of the last alert of the previous page. */
  listAlerts(page: { before?: number; limit: number }): Promise<Alert[]>;
  /** Deletes the alerts resolved before `cutoff` with their notifications and attempts (retention); returns how many. */
  deleteAlertsResolvedBefore(cutoff: number): Promise<number>;
  /** The reads alert conditions need, each one indexed lookup. */
  handlerHealth(handler: string): Promise<HandlerHealth | undefined>;
  deadCount(handler: string): Promise<number>;
  /** When the newest stored event arrived, undefined when there is none. */
  lastEventReceivedAt(): Promise<number | undefined>;

  // Operations
  /** A real durable write; throws when the database cannot take one. */
  probeWrite(now?: number): Promise<void>;
  /** Bytes the database takes on disk (for the metrics gauge). */
  sizeBytes(): Promise<number>;
  /**
   * Runs `job` on one replica at a time (an advisory lock on PostgreSQL; trivially on SQLite); resolves to undefined
   * without running it when another replica holds the lock.
   */
  singleton<T>(name: string, job: () => Promise<T>): Promise<T | undefined>;
  /** Called after new or redelivered deliveries commit anywhere (NOTIFY/LISTEN on PostgreSQL, in-process on SQLite). */
  onDeliveriesDue(listener: () => void): () => void;
  /** Commits anything queued, then closes connections. */
  close(): Promise<void>;
}
