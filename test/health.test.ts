import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, postWebhook, readFixture, type TestApp } from './helpers/app.js';
import { sqliteOf } from './helpers/storage.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

// Tests run as root in CI, and root ignores file modes, so a chmod'ed data directory would still be writable here.
// `PRAGMA query_only` makes SQLite refuse every write on the live connection with SQLITE_READONLY, which is what a
// read-only volume or file produces; the lock case is covered in test/ingest/limits.test.ts.
describe('GET /readyz', () => {
  it('answers 200 with status ready when the database takes a write', async () => {
    t = await createTestApp();
    const response = await t.app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
  });

  it('answers 503 saying the database is not writable and why, when it is read-only, and recovers', async () => {
    t = await createTestApp();
    sqliteOf(t.ctx.storage).db.pragma('query_only = ON');
    const response = await t.app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<{ detail: string }>().detail).toMatch(/^database is not writable: .*readonly/);
    expect((await postWebhook(t.app, 'feedback', readFixture('valid/feedback/documented.json'))).statusCode).toBe(503);
    sqliteOf(t.ctx.storage).db.pragma('query_only = OFF');
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('answers 503 saying the database is closed once it has been closed', async () => {
    t = await createTestApp();
    await t.ctx.storage.close();
    const response = await t.app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json<{ detail: string }>().detail).toBe('database is closed');
  });

  it('stays 200 on /healthz (liveness) even when the database is not writable', async () => {
    t = await createTestApp();
    sqliteOf(t.ctx.storage).db.pragma('query_only = ON');
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    sqliteOf(t.ctx.storage).db.pragma('query_only = OFF');
  });
});
