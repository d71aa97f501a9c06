// The alerts part of the storage contract, on both backends: episodes deduplicated by (kind, subject), their
// notifications as deliveries, and the indexed reads the conditions use.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClaimRequest, NewAlert, Storage } from '../../src/store/storage.js';
import { DB_FILE, openSqliteStorage } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/app.js';
import { deliverTo, newEvent } from '../helpers/events.js';
import { freshDatabase, openTestStorage } from '../helpers/postgres.js';

const T0 = Date.parse('2026-06-01T12:00:00Z');
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const claim = (handler: string): ClaimRequest => ({ handler, concurrency: 4, leaseMs: 10_000, unlessFollowedBy: [] });

type Backend = { name: string; open: () => Promise<Storage>; reopen: (storage: Storage) => Promise<Storage> };

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = tempDir('chatlio-relay-alerts-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return this.reopen({ path: join(dir, DB_FILE) } as unknown as Storage);
  },
  async reopen(storage) {
    const path = (storage as unknown as { path: string }).path;
    const opened = await openSqliteStorage({ path, synchronous: 'full', busyTimeoutMs: 5000, rejectionsMax: 100 });
    cleanups.push(() => opened.close().catch(() => undefined));
    return opened;
  },
};

// One database per test file; every test uses names of its own, so they never see each other's rows.
let database: Promise<string> | undefined;
const urls = new WeakMap<Storage, string>();
const postgres: Backend = {
  name: 'postgres',
  async open() {
    database ??= freshDatabase().then(({ url, drop }) => {
      cleanups.unshift(drop);
      return url;
    });
    const url = await database;
    const storage = await openTestStorage(url);
    urls.set(storage, url);
    cleanups.push(() => storage.close().catch(() => undefined));
    return storage;
  },
  async reopen(storage) {
    const opened = await openTestStorage(urls.get(storage)!);
    urls.set(opened, urls.get(storage)!);
    cleanups.push(() => opened.close().catch(() => undefined));
    return opened;
  },
};

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const failing = (subject: string): NewAlert => ({ kind: 'failing', subject, detail: { summary: `${subject} failed 5 times in a row`, advice: 'look', handler: subject } });

for (const backend of [sqlite, postgres]) {
  describe(`${backend.name}: alerts in storage`, () => {
    it('opens one alert per kind and subject: a second open while it is open is a no-op that notifies nobody', async () => {
      const storage = await backend.open();
      const subject = unique('zendesk');
      const ops = unique('ops');
      const opened = await storage.openAlert(failing(subject), [ops], T0);
      expect(opened).toMatchObject({ kind: 'failing', subject, openedAt: T0, resolvedAt: null, detail: { summary: `${subject} failed 5 times in a row` } });
      expect(await storage.openAlert(failing(subject), [ops], T0 + 1000)).toBeUndefined();
      // Another kind about the same handler is another alert.
      expect(await storage.openAlert({ ...failing(subject), kind: 'dead' }, [], T0)).toBeDefined();
      const notifications = await storage.listDeliveries({ handler: ops }, { limit: 10 });
      expect(notifications).toMatchObject([{ alertId: opened!.id, alertAction: 'trigger', eventId: null, eventSeq: null, status: 'pending', dueAt: T0 }]);
      expect((await storage.openAlerts()).filter((alert) => alert.subject === subject).map((alert) => alert.kind).sort()).toEqual(['dead', 'failing']);
    });

    it('resolves once, with "resolved" notifications, and opens a new episode afterwards', async () => {
      const storage = await backend.open();
      const subject = unique('zendesk');
      const ops = unique('ops');
      const first = (await storage.openAlert(failing(subject), [ops], T0))!;
      const [sent] = await storage.claimDue(claim(ops), T0);
      await storage.recordAttempt({ deliverySeq: sent!.seq, attemptId: sent!.attemptId, claimToken: sent!.claimToken, durationMs: 1, outcome: 'succeeded', next: { status: 'succeeded' } }, T0);
      expect(await storage.resolveAlert(first.id, [ops], T0 + 5000)).toMatchObject({ id: first.id, resolvedAt: T0 + 5000 });
      expect(await storage.resolveAlert(first.id, [ops], T0 + 6000)).toBeUndefined();
      const second = await storage.openAlert(failing(subject), [ops], T0 + 7000);
      expect(second!.id).not.toBe(first.id);
      const notifications = await storage.listDeliveries({ handler: ops }, { limit: 10 });
      expect(notifications.map((d) => [d.alertId, d.alertAction])).toEqual([
        [second!.id, 'trigger'],
        [first.id, 'resolve'],
        [first.id, 'trigger'],
      ]);
      const listed = await storage.listAlerts({ limit: 100 });
      const mine = listed.filter((alert) => alert.subject === subject);
      expect(mine.map((alert) => [alert.id, alert.resolvedAt])).toEqual([
        [second!.id, null],
        [first.id, T0 + 5000],
      ]);
      expect(await storage.getAlert(first.id)).toEqual(mine[1]);
      expect((await storage.listAlerts({ before: second!.id, limit: 100 })).some((alert) => alert.id === second!.id)).toBe(false);
    });

    it('cancels waiting triggers on resolve: no resolution for a handler never told, one for a handler that was tried', async () => {
      const storage = await backend.open();
      const [tried, untold] = [unique('pd'), unique('mail')];
      const alert = (await storage.openAlert(failing(unique('zendesk')), [tried, untold], T0))!;
      const [claimed] = await storage.claimDue(claim(tried), T0);
      await storage.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 1, outcome: 'failed', statusCode: 503, next: { status: 'failed', dueAt: T0 + 60_000 } }, T0);
      await storage.resolveAlert(alert.id, [tried, untold], T0 + 1000);
      expect((await storage.listDeliveries({ handler: tried }, { limit: 10 })).map((d) => [d.alertAction, d.status])).toEqual([
        ['resolve', 'pending'],
        ['trigger', 'cancelled'],
      ]);
      expect((await storage.listDeliveries({ handler: untold }, { limit: 10 })).map((d) => [d.alertAction, d.status])).toEqual([['trigger', 'cancelled']]);
    });

    it('claims and records an alert notification like any delivery', async () => {
      const storage = await backend.open();
      const ops = unique('ops');
      const alert = (await storage.openAlert(failing(unique('zendesk')), [ops], T0))!;
      const [claimed] = await storage.claimDue(claim(ops), T0);
      expect(claimed).toMatchObject({ alertId: alert.id, alertAction: 'trigger', attempt: 1 });
      expect(await storage.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 3, outcome: 'succeeded', statusCode: 200, next: { status: 'succeeded' } }, T0 + 10)).toBe(true);
      expect(await storage.getDelivery(claimed!.seq)).toMatchObject({ status: 'succeeded', alertId: alert.id });
      expect(await storage.attempts(claimed!.seq)).toMatchObject([{ outcome: 'succeeded', statusCode: 200 }]);
    });

    it("redelivers an alert's dead notifications in bulk by handler, but not when a range of events is asked for", async () => {
      const storage = await backend.open();
      const ops = unique('ops');
      await storage.openAlert(failing(unique('zendesk')), [ops], T0);
      const [claimed] = await storage.claimDue(claim(ops), T0);
      await storage.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 1, outcome: 'failed', statusCode: 404, next: { status: 'dead' } }, T0);
      expect(await storage.redeliverAll({ status: 'dead', handler: ops, since: T0 - 1000 }, T0 + 1)).toBe(0);
      expect(await storage.redeliverAll({ status: 'dead', handler: ops }, T0 + 1)).toBe(1);
      expect(await storage.getDelivery(claimed!.seq)).toMatchObject({ status: 'pending', manual: true, dueAt: T0 + 1 });
    });

    it('counts failures in a row per handler, reset by a success, and remembers the last error and status', async () => {
      const storage = await backend.open();
      const handler = unique('zendesk');
      expect(await storage.handlerHealth(handler)).toBeUndefined();
      const attempt = async (outcome: 'failed' | 'succeeded' | 'interrupted', at: number, statusCode?: number) => {
        await storage.ingest(newEvent({ plan: deliverTo(at, handler) }));
        const [claimed] = await storage.claimDue(claim(handler), at);
        await storage.recordAttempt(
          {
            deliverySeq: claimed!.seq,
            attemptId: claimed!.attemptId,
            claimToken: claimed!.claimToken,
            durationMs: 1,
            outcome,
            statusCode,
            error: outcome === 'failed' ? `HTTP ${statusCode}` : undefined,
            next: outcome === 'succeeded' ? { status: 'succeeded' } : { status: outcome === 'failed' ? 'failed' : 'pending', dueAt: at + 1_000_000 },
          },
          at,
        );
      };
      await attempt('failed', T0, 503);
      await attempt('failed', T0 + 1, 500);
      await attempt('interrupted', T0 + 2);
      expect(await storage.handlerHealth(handler)).toEqual({ handler, consecutiveFailures: 2, lastError: 'HTTP 500', lastStatusCode: 500, updatedAt: T0 + 1 });
      await attempt('succeeded', T0 + 3, 201);
      expect(await storage.handlerHealth(handler)).toMatchObject({ consecutiveFailures: 0, lastError: 'HTTP 500' });
      await attempt('failed', T0 + 4, 429);
      expect(await storage.handlerHealth(handler)).toMatchObject({ consecutiveFailures: 1, lastStatusCode: 429 });
    });

    it("counts a handler's dead deliveries, and tells when the newest event arrived", async () => {
      const storage = await backend.open();
      const handler = unique('sms');
      expect(await storage.deadCount(handler)).toBe(0);
      for (let n = 0; n < 2; n++) {
        await storage.ingest(newEvent({ receivedAt: T0 + n, plan: deliverTo(T0, handler) }));
        const [claimed] = await storage.claimDue(claim(handler), T0);
        await storage.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 1, outcome: 'failed', statusCode: 400, next: { status: 'dead' } }, T0);
      }
      expect(await storage.deadCount(handler)).toBe(2);
      await storage.ingest(newEvent({ receivedAt: T0 + 60_000 }));
      expect(await storage.lastEventReceivedAt()).toBe(T0 + 60_000);
    });

    it('keeps open alerts across a restart, so the new process neither repeats nor forgets them', async () => {
      const storage = await backend.open();
      const subject = unique('zendesk');
      const opened = (await storage.openAlert(failing(subject), [], T0))!;
      const key = storage.alertKey(opened.id);
      await storage.close();
      const restarted = await backend.reopen(storage);
      expect((await restarted.openAlerts()).find((alert) => alert.subject === subject)).toEqual(opened);
      expect(await restarted.openAlert(failing(subject), [], T0 + 1)).toBeUndefined();
      // Its messages' key too, so the resolution closes the incident the trigger opened.
      expect(restarted.alertKey(opened.id)).toBe(key);
    });

    it('deletes the alerts resolved before a cutoff with their notifications and attempts, never an open one', async () => {
      const storage = await backend.open();
      const ops = unique('ops');
      const [old, recent, open] = [unique('old'), unique('recent'), unique('open')];
      const oldAlert = (await storage.openAlert(failing(old), [ops], T0 - 10_000))!;
      const [sent] = await storage.claimDue(claim(ops), T0 - 10_000);
      await storage.recordAttempt({ deliverySeq: sent!.seq, attemptId: sent!.attemptId, claimToken: sent!.claimToken, durationMs: 1, outcome: 'succeeded', next: { status: 'succeeded' } }, T0 - 10_000);
      await storage.resolveAlert(oldAlert.id, [ops], T0 - 5_000);
      const recentAlert = (await storage.openAlert(failing(recent), [], T0 - 10_000))!;
      await storage.resolveAlert(recentAlert.id, [], T0 + 5_000);
      const openAlert = (await storage.openAlert(failing(open), [], T0 - 100_000))!;

      expect(await storage.deleteAlertsResolvedBefore(T0)).toBeGreaterThanOrEqual(1);
      expect(await storage.getAlert(oldAlert.id)).toBeUndefined();
      expect(await storage.listDeliveries({ handler: ops }, { limit: 10 })).toEqual([]);
      expect(await storage.getDelivery(sent!.seq)).toBeUndefined();
      expect(await storage.attempts(sent!.seq)).toEqual([]);
      expect(await storage.getAlert(recentAlert.id)).toMatchObject({ resolvedAt: T0 + 5_000 });
      expect(await storage.getAlert(openAlert.id)).toMatchObject({ resolvedAt: null });
    });

    it("names an alert's messages with the database's identity, as its public ids end with it", async () => {
      const storage = await backend.open();
      const { id } = await storage.ingest(newEvent({ receivedAt: T0 }));
      const identity = id.slice(-8);
      expect(storage.alertKey(7)).toBe(`chatlio-relay-alert-7-${identity}`);
    });
  });
}

describe('sqlite: the alerts migration', () => {
  it('moves existing deliveries and their attempts over unchanged, and never reuses a deleted delivery id', async () => {
    // A database as version 4 left it: migrations 001-004 only, with a delivery, its attempt, and a deleted newer one.
    const dir = tempDir('chatlio-relay-alerts-migration-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, DB_FILE);
    const old = new Database(path);
    const migrations = join(dirname(fileURLToPath(import.meta.url)), '../../src/store/sqlite/migrations');
    for (const file of ['001_events.sql', '002_deliveries.sql', '003_query.sql', '004_leases.sql']) old.exec(readFileSync(join(migrations, file), 'utf8'));
    old.pragma('user_version = 4');
    old.exec(`
      INSERT INTO events (seq, type, received_at, body_sha256, raw) VALUES (1, 'transcript', ${T0}, x'01', x'7b7d');
      INSERT INTO deliveries (id, event_seq, handler, status, attempts, created_at, updated_at, last_error) VALUES (7, 1, 'zendesk', 'dead', 1, ${T0}, ${T0}, 'HTTP 400');
      INSERT INTO deliveries (id, event_seq, handler, status, created_at, updated_at) VALUES (8, 1, 'zendesk', 'pending', ${T0}, ${T0});
      DELETE FROM deliveries WHERE id = 8;
      INSERT INTO delivery_attempts (delivery_id, attempt, started_at, outcome, status_code) VALUES (7, 1, ${T0}, 'failed', 400);`);
    old.close();

    const storage = await openSqliteStorage({ path, synchronous: 'full', busyTimeoutMs: 5000, rejectionsMax: 100 });
    cleanups.push(() => storage.close().catch(() => undefined));
    expect(storage.db.pragma('user_version', { simple: true })).toBe(7);
    expect(await storage.deliveriesForEvent(1)).toMatchObject([{ seq: 7, handler: 'zendesk', status: 'dead', lastError: 'HTTP 400', alertId: null }]);
    expect(await storage.attempts(7)).toMatchObject([{ outcome: 'failed', statusCode: 400 }]);
    expect(await storage.deadCount('zendesk')).toBe(1);
    await storage.openAlert(failing('zendesk'), ['ops'], T0);
    expect((await storage.listDeliveries({ handler: 'ops' }, { limit: 1 }))[0]!.seq).toBe(9);
    expect(storage.db.pragma('foreign_key_check')).toEqual([]);
    // Purging the event still takes its deliveries and attempts along.
    expect(await storage.deleteEvent(1)).toBe(true);
    expect(await storage.attempts(7)).toEqual([]);
  });
});
