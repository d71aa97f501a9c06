// Bulk import into PostgreSQL with the source's own ids (explicit seq inserts), for `copy-to-postgres`. Not part of the
// storage contract: only the copier writes rows whose ids come from elsewhere.
import type pg from 'pg';
import { toTsvector } from './search.js';

/** An event as the copier reads it, with its search data already extracted from the raw body. */
export type ImportEvent = {
  seq: number;
  type: string;
  receivedAt: number;
  bodySha256: Buffer;
  raw: Buffer;
  conversationUUID: string | null;
  visitorUUID: string | null;
  visitorEmail: string | null;
  visitorName: string | null;
  rating: string | null;
  searchText: string;
  tags: string[];
  firstResponseSeconds: number | null;
};

export type ImportDelivery = {
  id: number;
  eventSeq: number;
  handler: string;
  status: string;
  attempts: number;
  dueAt: number | null;
  createdAt: number;
  updatedAt: number;
  conversationUUID: string | null;
  manual: boolean;
  lastError: string | null;
  lastStatusCode: number | null;
  externalId: string | null;
  state: string | null;
  cancelledBy: number | null;
  alertId: number | null;
  alertAction: string | null;
};

export type ImportAlert = { id: number; kind: string; subject: string; openedAt: number; resolvedAt: number | null; detail: string };

export type ImportHandlerHealth = {
  handler: string;
  consecutiveFailures: number;
  lastError: string | null;
  lastStatusCode: number | null;
  updatedAt: number;
};

export type ImportAttempt = {
  id: number;
  deliveryId: number;
  attempt: number;
  startedAt: number;
  durationMs: number | null;
  outcome: string | null;
  statusCode: number | null;
  error: string | null;
  response: string | null;
};

export type ImportRejection = { id: number; type: string; receivedAt: number; raw: Buffer; errors: string };

/** The tables the copier fills, each keyed by its id column: a resumed copy continues after the highest one. */
export const IMPORT_TABLES = {
  events: 'seq',
  alerts: 'id',
  deliveries: 'id',
  delivery_attempts: 'id',
  rejections: 'id',
  transcript_first_response: 'seq',
} as const;
export type ImportTable = keyof typeof IMPORT_TABLES;

const MARKER_KEY = 'copied_from';

/** The arrays an `unnest($1::…[], $2::…[], …)` insert takes: one per key, in order, each with that field of every row. */
function columnsOf<T>(rows: T[], keys: Array<keyof T>): unknown[][] {
  return keys.map((key) => rows.map((row) => row[key]));
}

/** The source a database was copied from (the marker row in meta), or undefined when it holds none. */
export async function importMarker(client: pg.ClientBase): Promise<string | undefined> {
  const { rows } = await client.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [MARKER_KEY]);
  return rows[0]?.value;
}

export async function setImportMarker(client: pg.ClientBase, source: string): Promise<void> {
  await client.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [MARKER_KEY, source]);
}

/** Takes over the identity public ids end with (the copied SQLite file's), before any id is handed out. */
export async function setDatabaseId(client: pg.ClientBase, databaseId: string): Promise<void> {
  await client.query("UPDATE meta SET value = $1 WHERE key = 'database_id'", [databaseId]);
}

/** Whether any table the service fills holds a row (meta's probe row does not count). */
export async function holdsData(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM deliveries) OR EXISTS (SELECT 1 FROM rejections) OR EXISTS (SELECT 1 FROM alerts) AS found',
  );
  return rows[0]!.found;
}

/** The highest id copied so far per table (0 when none). */
export async function highestIds(client: pg.ClientBase): Promise<Record<ImportTable, number>> {
  return perTable(client, (table, key) => `coalesce(max(${key}), 0)`);
}

export async function rowCounts(client: pg.ClientBase): Promise<Record<ImportTable, number>> {
  return perTable(client, () => 'count(*)');
}

/** One figure per import table, in one statement: a pg client runs one query at a time, so they are not sent at once. */
async function perTable(client: pg.ClientBase, aggregate: (table: string, key: string) => string): Promise<Record<ImportTable, number>> {
  const columns = Object.entries(IMPORT_TABLES).map(([table, key]) => `(SELECT ${aggregate(table, key)} FROM ${table})::bigint AS ${table}`);
  const { rows } = await client.query<Record<ImportTable, number>>(`SELECT ${columns.join(', ')}`);
  return rows[0]!;
}

/** Events (with their search vector and first-response row) in one statement each; seq as in the source. */
export async function importEvents(client: pg.ClientBase, events: ImportEvent[]): Promise<void> {
  if (events.length === 0) return;
  await client.query(
    `INSERT INTO events (seq, type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating, search, tags)
     OVERRIDING SYSTEM VALUE
     SELECT seq, type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating, search::tsvector,
       (SELECT array_agg(tag) FROM json_array_elements_text(tags::json) AS tag)
     FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
       AS u(seq, type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating, search, tags)`,
    [
      events.map((e) => e.seq),
      events.map((e) => e.type),
      events.map((e) => e.receivedAt),
      events.map((e) => e.bodySha256),
      events.map((e) => e.raw),
      events.map((e) => e.conversationUUID),
      events.map((e) => e.visitorUUID),
      events.map((e) => e.visitorEmail),
      events.map((e) => e.visitorName),
      events.map((e) => e.rating),
      events.map((e) => toTsvector(e.searchText)),
      // NULL, not an empty array, when there is no tag: the GIN index only holds events that have some (as at ingest).
      events.map((e) => (e.tags.length > 0 ? JSON.stringify(e.tags) : null)),
    ],
  );
  const timed = events.filter((e) => e.firstResponseSeconds !== null);
  if (timed.length > 0) {
    await client.query('INSERT INTO transcript_first_response (seq, seconds) SELECT * FROM unnest($1::bigint[], $2::float8[])', [
      timed.map((e) => e.seq),
      timed.map((e) => e.firstResponseSeconds),
    ]);
  }
}

/** Deliveries with their ids; no lease or claim token: nothing is running in a database nobody has served yet. */
export async function importDeliveries(client: pg.ClientBase, deliveries: ImportDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await client.query(
    `INSERT INTO deliveries (id, event_seq, handler, status, attempts, due_at, created_at, updated_at, conversation_uuid, manual,
       last_error, last_status_code, external_id, state, cancelled_by, alert_id, alert_action)
     OVERRIDING SYSTEM VALUE
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[],
       $10::boolean[], $11::text[], $12::int[], $13::text[], $14::text[], $15::bigint[], $16::bigint[], $17::text[])`,
    columnsOf(deliveries, [
      'id', 'eventSeq', 'handler', 'status', 'attempts', 'dueAt', 'createdAt', 'updatedAt', 'conversationUUID', 'manual',
      'lastError', 'lastStatusCode', 'externalId', 'state', 'cancelledBy', 'alertId', 'alertAction',
    ]),
  );
}

/**
 * Alerts with their ids, inserted or overwritten: an alert open at the first pass may have been resolved since, and
 * they are few (one per episode), so every pass writes them all. In id order, so a resolved episode is written before
 * the next one of the same condition opens (one open alert per kind and subject).
 */
export async function importAlerts(client: pg.ClientBase, alerts: ImportAlert[]): Promise<void> {
  if (alerts.length === 0) return;
  await client.query(
    `INSERT INTO alerts (id, kind, subject, opened_at, resolved_at, detail) OVERRIDING SYSTEM VALUE
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) ORDER BY 1
     ON CONFLICT (id) DO UPDATE SET resolved_at = EXCLUDED.resolved_at, detail = EXCLUDED.detail`,
    columnsOf(alerts, ['id', 'kind', 'subject', 'openedAt', 'resolvedAt', 'detail']),
  );
}

/** Each handler's failure streak (the "failed N times in a row" counter), inserted or overwritten. */
export async function importHandlerHealth(client: pg.ClientBase, rows: ImportHandlerHealth[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO handler_health (handler, consecutive_failures, last_error, last_status_code, updated_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::bigint[])
     ON CONFLICT (handler) DO UPDATE SET consecutive_failures = EXCLUDED.consecutive_failures, last_error = EXCLUDED.last_error,
       last_status_code = EXCLUDED.last_status_code, updated_at = EXCLUDED.updated_at`,
    columnsOf(rows, ['handler', 'consecutiveFailures', 'lastError', 'lastStatusCode', 'updatedAt']),
  );
}

/** Deliveries a copy left waiting (pending or failed): the ones whose state may have moved on in the source since. */
export async function unfinishedDeliveryIds(client: pg.ClientBase): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>("SELECT id FROM deliveries WHERE status IN ('pending', 'failed') ORDER BY id");
  return rows.map((row) => row.id);
}

/** Overwrites copied deliveries with their current state in the source (same ids). */
export async function refreshDeliveries(client: pg.ClientBase, deliveries: ImportDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await client.query(
    `UPDATE deliveries d SET status = u.status, attempts = u.attempts, due_at = u.due_at, updated_at = u.updated_at, manual = u.manual,
       last_error = u.last_error, last_status_code = u.last_status_code, external_id = u.external_id, state = u.state, cancelled_by = u.cancelled_by
     FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::boolean[], $7::text[], $8::int[], $9::text[], $10::text[], $11::bigint[])
       AS u(id, status, attempts, due_at, updated_at, manual, last_error, last_status_code, external_id, state, cancelled_by)
     WHERE d.id = u.id`,
    columnsOf(deliveries, [
      'id', 'status', 'attempts', 'dueAt', 'updatedAt', 'manual', 'lastError', 'lastStatusCode', 'externalId', 'state', 'cancelledBy',
    ]),
  );
}

export async function importAttempts(client: pg.ClientBase, attempts: ImportAttempt[]): Promise<void> {
  if (attempts.length === 0) return;
  await client.query(
    `INSERT INTO delivery_attempts (id, delivery_id, attempt, started_at, duration_ms, outcome, status_code, error, response)
     OVERRIDING SYSTEM VALUE
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], $5::int[], $6::text[], $7::int[], $8::text[], $9::text[])`,
    columnsOf(attempts, ['id', 'deliveryId', 'attempt', 'startedAt', 'durationMs', 'outcome', 'statusCode', 'error', 'response']),
  );
}

export async function importRejections(client: pg.ClientBase, rejections: ImportRejection[]): Promise<void> {
  if (rejections.length === 0) return;
  await client.query(
    `INSERT INTO rejections (id, type, received_at, raw, errors) OVERRIDING SYSTEM VALUE
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[], $5::text[])`,
    columnsOf(rejections, ['id', 'type', 'receivedAt', 'raw', 'errors']),
  );
}

/**
 * Moves each identity past the highest id the source ever gave out (SQLite's AUTOINCREMENT never reuses one, even
 * after deletions), so new rows never take an id that was public once.
 */
export async function advanceSequences(
  client: pg.ClientBase,
  highest: { events: number; alerts: number; deliveries: number; delivery_attempts: number; rejections: number },
): Promise<void> {
  for (const [table, used] of Object.entries(highest)) {
    const key = IMPORT_TABLES[table as ImportTable];
    const { rows } = await client.query<{ max: number | null }>(`SELECT max(${key}) AS max FROM ${table}`);
    const last = Math.max(used, rows[0]!.max ?? 0);
    if (last > 0) await client.query(`SELECT setval(pg_get_serial_sequence('${table}', '${key}'), $1)`, [last]);
  }
}

/**
 * Each event's length and sha256 of its raw body, hashed by the server, in seq order a page at a time: the checksum
 * reads what PostgreSQL stored without sending every body back over the wire.
 */
export async function rawDigestsAfter(client: pg.ClientBase, after: number, limit: number): Promise<Array<{ seq: number; length: number; digest: Buffer }>> {
  const { rows } = await client.query<{ seq: number; length: number; digest: Buffer }>(
    'SELECT seq, length(raw) AS length, sha256(raw) AS digest FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
    [after, limit],
  );
  return rows;
}

export async function inImportTransaction(client: pg.ClientBase, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
