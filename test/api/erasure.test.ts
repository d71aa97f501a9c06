import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiHeaders, createTestApp, postWebhook, type TestApp } from '../helpers/app.js';
import { purgeExpired, RETENTION_BATCH } from '../../src/retention.js';
import { tagMatch } from '../../src/store/sqlite/search.js';
import { sqliteOf } from '../helpers/storage.js';
import { notification, offlineMessage, store, transcript, visitor } from './seed.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t?.close();
});

const DAY = 24 * 3_600_000;
const count = (sql: string, ...params: unknown[]) => (sqliteOf(t.ctx.storage).db.prepare(sql).get(...params) as { n: number }).n;
const ftsHits = (word: string) => count('SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH ?', `"${word}"`);
const tagHits = (tag: string) => count('SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH ?', tagMatch(tag));
const ftsRows = () => count('SELECT count(*) AS n FROM events_fts');
const ids = async (query: string) =>
  (await t.app.inject({ url: `/api/events?${query}`, headers: apiHeaders })).json<{ data: Array<{ id: string }> }>().data.map((e) => e.id);

describe('DELETE /api/events/:id', () => {
  it('removes the event, its full-text row and its tags, and answers how many went', async () => {
    const kept = await store(t.ctx, 'transcript', transcript({ conversation: 'c-keep', visitor: visitor('v1'), texts: ['zebra kept'], tags: ['vip'] }));
    const gone = await store(t.ctx, 'transcript', transcript({ conversation: 'c-gone', visitor: visitor('v2'), texts: ['zebra platypus'], tags: ['vip'] }));
    expect(ftsHits('platypus')).toBe(1);
    const response = await t.app.inject({ method: 'DELETE', url: `/api/events/${gone.id}`, headers: apiHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ removed: { events: 1, rejections: 0 } });
    expect(ftsHits('platypus')).toBe(0);
    expect(ftsHits('zebra')).toBe(1);
    expect(tagHits('vip')).toBe(1);
    expect(await ids('tag=vip')).toEqual([kept.id]);
    expect((await t.app.inject({ url: `/api/events/${gone.id}`, headers: apiHeaders })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/events/${gone.id}/raw`, headers: apiHeaders })).statusCode).toBe(404);
  });

  it('answers 404 for an unknown or malformed id', async () => {
    for (const id of ['evt_00000000zz', 'nope']) {
      const response = await t.app.inject({ method: 'DELETE', url: `/api/events/${id}`, headers: apiHeaders });
      expect(response.statusCode).toBe(404);
    }
  });
});

describe('DELETE /api/visitors/:key', () => {
  it('erases by email every event of the visitor, the UUIDs seen with it, their full-text rows and rejections that mention them', async () => {
    const jane = visitor('uuid-jane', 'Jane@Example.com', 'Jane Roe');
    const janeAnon = visitor('uuid-jane', '', '');
    const other = visitor('uuid-other', 'other@example.com', 'Other');
    await store(t.ctx, 'transcript', transcript({ conversation: 'c1', visitor: jane, texts: ['my secret phrase aardvark'], tags: ['billing'] }));
    await store(t.ctx, 'conversation-started', notification('c2', janeAnon, 'anonymous aardvark'));
    await store(t.ctx, 'offline-message', offlineMessage(visitor('uuid-jane-2', 'jane@example.com', 'Jane'), 'hi', 'aardvark again'));
    const kept = await store(t.ctx, 'conversation-started', notification('c3', other, 'aardvark from someone else'));
    // A rejected body that mentions her, one that does not.
    await postWebhook(t.app, 'offline-message', JSON.stringify({ email: 42, name: 'Jane', visitor: { email: 'JANE@example.com' } }));
    await postWebhook(t.app, 'offline-message', JSON.stringify({ email: 43, name: 'Other' }));
    expect(ftsHits('aardvark')).toBe(4);

    const response = await t.app.inject({ method: 'DELETE', url: `/api/visitors/${encodeURIComponent('JANE@example.com')}`, headers: apiHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ removed: { events: 3, rejections: 1 } });
    expect(ftsHits('aardvark')).toBe(1);
    expect(ftsHits('secret')).toBe(0);
    expect(ftsHits('jane')).toBe(0);
    expect(tagHits('billing')).toBe(0);
    expect(count('SELECT count(*) AS n FROM rejections')).toBe(1);
    expect(await ids('q=aardvark')).toEqual([kept.id]);
    expect(await ids('visitor=uuid-jane')).toEqual([]);
  });

  it('erases by visitor UUID, including the emails seen with it', async () => {
    await store(t.ctx, 'transcript', transcript({ conversation: 'c1', visitor: visitor('uuid-max', 'max@example.com', 'Max'), texts: ['hello'] }));
    await store(t.ctx, 'offline-message', offlineMessage(visitor('uuid-max-other-device', 'max@example.com', 'Max'), 's', 'm'));
    await store(t.ctx, 'feedback', { ...notification('c1', visitor('uuid-max')), chatFeedback: 'fine' });
    const response = await t.app.inject({ method: 'DELETE', url: '/api/visitors/uuid-max', headers: apiHeaders });
    expect(response.json()).toEqual({ removed: { events: 3, rejections: 0 } });
    expect(count('SELECT count(*) AS n FROM events')).toBe(0);
    expect(count("SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH 'max'")).toBe(0);
  });

  it('answers zero counts when nothing matches', async () => {
    const response = await t.app.inject({ method: 'DELETE', url: '/api/visitors/nobody%40example.com', headers: apiHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ removed: { events: 0, rejections: 0 } });
  });
});

describe('retention', () => {
  it('deletes events older than RETENTION_DAYS in batches, with their full-text rows, tags and first-response rows, and keeps newer ones', async () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const old = RETENTION_BATCH + 30;
    for (let i = 0; i < old; i++) {
      await store(t.ctx, 'transcript', transcript({ conversation: `old-${i}`, visitor: visitor(`v${i}`), texts: ['ancient words', 'old answer'], tags: ['old'] }), now - 40 * DAY + i);
    }
    const recent = await store(t.ctx, 'transcript', transcript({ conversation: 'new', visitor: visitor('vn'), texts: ['fresh words', 'new answer'], tags: ['new'] }), now - 5 * DAY);
    expect(count('SELECT count(*) AS n FROM transcript_first_response')).toBe(old + 1);
    const removed = await purgeExpired(t.ctx, 30, now);
    expect(removed).toBe(old);
    expect(count('SELECT count(*) AS n FROM events')).toBe(1);
    expect(ftsHits('ancient')).toBe(0);
    expect(ftsHits('fresh')).toBe(1);
    expect(tagHits('old')).toBe(0);
    expect(tagHits('new')).toBe(1);
    expect(ftsRows()).toBe(1);
    expect(count('SELECT count(*) AS n FROM transcript_first_response')).toBe(1);
    expect(await ids('')).toEqual([recent.id]);
    expect(await purgeExpired(t.ctx, 30, now)).toBe(0);
  });

  it('reads RETENTION_DAYS as a positive whole number and keeps events forever without it', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({ RETENTION_DAYS: '90' }).retentionDays).toBe(90);
    expect(loadConfig({}).retentionDays).toBeUndefined();
    expect(() => loadConfig({ RETENTION_DAYS: '0' })).toThrow(/RETENTION_DAYS/);
    expect(() => loadConfig({ RETENTION_DAYS: 'forever' })).toThrow(/RETENTION_DAYS/);
  });
});
