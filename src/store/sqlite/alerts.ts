// The alerts and handler_health tables, and the indexed reads alert conditions need; opening or resolving an alert
// writes its notify handlers' deliveries in the same transaction.
import type { Db } from './db.js';
import type { Alert, AlertAction, HandlerHealth, NewAlert } from '../storage.js';
import { ALERT_COLUMNS as COLUMNS, toAlert, type RawAlert } from '../rows.js';

export function alertStore(db: Db) {
  // The unique partial index on open (kind, subject) turns a second open into a no-op: the dedup.
  const insert = db.prepare<Record<string, unknown>, RawAlert>(`
    INSERT INTO alerts (kind, subject, opened_at, detail) VALUES (@kind, @subject, @now, @detail)
    ON CONFLICT (kind, subject) WHERE resolved_at IS NULL DO NOTHING RETURNING ${COLUMNS}`);
  const resolve = db.prepare<Record<string, unknown>, RawAlert>(
    `UPDATE alerts SET resolved_at = @now WHERE id = @id AND resolved_at IS NULL RETURNING ${COLUMNS}`,
  );
  const notification = db.prepare<Record<string, unknown>>(`
    INSERT INTO deliveries (alert_id, alert_action, handler, status, due_at, created_at, updated_at)
    VALUES (@alertId, @action, @handler, 'pending', @now, @now, @now)`);
  // A trigger still waiting when its alert clears is never sent after the resolution (a late PagerDuty trigger would
  // reopen an incident nobody closes); one never tried at all needs no resolution either.
  const cancelTriggers = db.prepare<Record<string, unknown>, { handler: string; attempts: number }>(`
    UPDATE deliveries SET status = 'cancelled', due_at = NULL, updated_at = @now
    WHERE alert_id = @id AND alert_action = 'trigger' AND status IN ('pending', 'failed') RETURNING handler, attempts`);
  const byId = db.prepare<[number], RawAlert>(`SELECT ${COLUMNS} FROM alerts WHERE id = ?`);
  // Their notifications (deliveries.alert_id) and those deliveries' attempts go by ON DELETE CASCADE.
  const expire = db.prepare<[number]>('DELETE FROM alerts WHERE resolved_at < ?');
  const open = db.prepare<[], RawAlert>(`SELECT ${COLUMNS} FROM alerts WHERE resolved_at IS NULL ORDER BY id`);
  const page = db.prepare<[number, number], RawAlert>(`SELECT ${COLUMNS} FROM alerts WHERE id < ? ORDER BY id DESC LIMIT ?`);
  const health = db.prepare<[string], { handler: string; consecutive_failures: number; last_error: string | null; last_status_code: number | null; updated_at: number }>(
    'SELECT handler, consecutive_failures, last_error, last_status_code, updated_at FROM handler_health WHERE handler = ?',
  );
  // The (status, handler, due_at) index: a count over the handler's dead rows only.
  const dead = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM deliveries WHERE status = 'dead' AND handler = ?");
  const newest = db.prepare<[], { received_at: number }>('SELECT received_at FROM events ORDER BY seq DESC LIMIT 1');

  const notify = (alertId: number, action: AlertAction, handlers: readonly string[], now: number) => {
    for (const handler of handlers) notification.run({ alertId, action, handler, now });
  };

  return {
    /** Call inside an IMMEDIATE transaction. */
    open(alert: NewAlert, handlers: readonly string[], now: number): Alert | undefined {
      const row = insert.get({ kind: alert.kind, subject: alert.subject, now, detail: JSON.stringify(alert.detail) });
      if (!row) return undefined;
      notify(row.id, 'trigger', handlers, now);
      return toAlert(row);
    },
    /** Call inside an IMMEDIATE transaction. */
    resolve(id: number, handlers: readonly string[], now: number): Alert | undefined {
      const row = resolve.get({ id, now });
      if (!row) return undefined;
      const neverSent = new Set(cancelTriggers.all({ id, now }).filter((trigger) => trigger.attempts === 0).map((trigger) => trigger.handler));
      notify(row.id, 'resolve', handlers.filter((handler) => !neverSent.has(handler)), now);
      return toAlert(row);
    },
    get(id: number): Alert | undefined {
      const row = byId.get(id);
      return row ? toAlert(row) : undefined;
    },
    openAlerts: () => open.all().map(toAlert),
    /** Call inside an IMMEDIATE transaction. */
    deleteResolvedBefore: (cutoff: number) => expire.run(cutoff).changes,
    list: (before: number | undefined, limit: number) => page.all(before ?? Number.MAX_SAFE_INTEGER, limit).map(toAlert),
    health(handler: string): HandlerHealth | undefined {
      const row = health.get(handler);
      return row
        ? { handler: row.handler, consecutiveFailures: row.consecutive_failures, lastError: row.last_error, lastStatusCode: row.last_status_code, updatedAt: row.updated_at }
        : undefined;
    },
    deadCount: (handler: string) => dead.get(handler)!.n,
    lastEventReceivedAt: () => newest.get()?.received_at,
  };
}
