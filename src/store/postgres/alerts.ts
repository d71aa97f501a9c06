// Alerts on PostgreSQL: episodes deduplicated by a unique partial index (so replicas cannot open one twice), their
// notify handlers' deliveries written in the same transaction, and the indexed reads alert conditions need.
import type pg from 'pg';
import type { Alert, AlertAction, HandlerHealth, NewAlert } from '../storage.js';
import { ALERT_COLUMNS as COLUMNS, toAlert, type RawAlert } from '../rows.js';
import { inTransaction } from './connection.js';

async function notify(client: pg.PoolClient, alertId: number, action: AlertAction, handlers: readonly string[], now: number): Promise<void> {
  if (handlers.length === 0) return;
  await client.query(
    `INSERT INTO deliveries (alert_id, alert_action, handler, status, due_at, created_at, updated_at)
     SELECT $1, $2, handler, 'pending', $3, $3, $3 FROM unnest($4::text[]) AS handler`,
    [alertId, action, now, handlers],
  );
}

export function openAlert(pool: pg.Pool, alert: NewAlert, handlers: readonly string[], now: number): Promise<Alert | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<RawAlert>(
      `INSERT INTO alerts (kind, subject, opened_at, detail) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kind, subject) WHERE resolved_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
      [alert.kind, alert.subject, now, JSON.stringify(alert.detail)],
    );
    if (!rows[0]) return undefined;
    await notify(client, rows[0].id, 'trigger', handlers, now);
    return toAlert(rows[0]);
  });
}

export function resolveAlert(pool: pg.Pool, id: number, handlers: readonly string[], now: number): Promise<Alert | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<RawAlert>(`UPDATE alerts SET resolved_at = $2 WHERE id = $1 AND resolved_at IS NULL RETURNING ${COLUMNS}`, [id, now]);
    if (!rows[0]) return undefined;
    // A trigger still waiting when its alert clears is never sent after the resolution (a late PagerDuty trigger would
    // reopen an incident nobody closes); one never tried at all needs no resolution either.
    const cancelled = await client.query<{ handler: string; attempts: number }>(
      `UPDATE deliveries SET status = 'cancelled', due_at = NULL, updated_at = $2
       WHERE alert_id = $1 AND alert_action = 'trigger' AND status IN ('pending', 'failed') RETURNING handler, attempts`,
      [id, now],
    );
    const neverSent = new Set(cancelled.rows.filter((trigger) => trigger.attempts === 0).map((trigger) => trigger.handler));
    await notify(client, rows[0].id, 'resolve', handlers.filter((handler) => !neverSent.has(handler)), now);
    return toAlert(rows[0]);
  });
}

export async function getAlert(pool: pg.Pool, id: number): Promise<Alert | undefined> {
  const { rows } = await pool.query<RawAlert>(`SELECT ${COLUMNS} FROM alerts WHERE id = $1`, [id]);
  return rows[0] ? toAlert(rows[0]) : undefined;
}

export async function openAlerts(pool: pg.Pool): Promise<Alert[]> {
  const { rows } = await pool.query<RawAlert>(`SELECT ${COLUMNS} FROM alerts WHERE resolved_at IS NULL ORDER BY id`);
  return rows.map(toAlert);
}

export async function listAlerts(pool: pg.Pool, page: { before?: number; limit: number }): Promise<Alert[]> {
  const { rows } = await pool.query<RawAlert>(`SELECT ${COLUMNS} FROM alerts WHERE id < $1 ORDER BY id DESC LIMIT $2`, [
    page.before ?? Number.MAX_SAFE_INTEGER,
    page.limit,
  ]);
  return rows.map(toAlert);
}

/** Their notifications (deliveries.alert_id) and those deliveries' attempts go by ON DELETE CASCADE. */
export async function deleteAlertsResolvedBefore(pool: pg.Pool, cutoff: number): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM alerts WHERE resolved_at < $1', [cutoff]);
  return rowCount ?? 0;
}

export async function handlerHealth(pool: pg.Pool, handler: string): Promise<HandlerHealth | undefined> {
  const { rows } = await pool.query<{ handler: string; consecutive_failures: number; last_error: string | null; last_status_code: number | null; updated_at: number }>(
    'SELECT handler, consecutive_failures, last_error, last_status_code, updated_at FROM handler_health WHERE handler = $1',
    [handler],
  );
  const row = rows[0];
  return row
    ? { handler: row.handler, consecutiveFailures: row.consecutive_failures, lastError: row.last_error, lastStatusCode: row.last_status_code, updatedAt: row.updated_at }
    : undefined;
}

export async function deadCount(pool: pg.Pool, handler: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE status = 'dead' AND handler = $1", [handler]);
  return rows[0]!.n;
}

export async function lastEventReceivedAt(pool: pg.Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ received_at: number }>('SELECT received_at FROM events ORDER BY seq DESC LIMIT 1');
  return rows[0]?.received_at;
}
