import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { apiHeaders, countEvents, createTestApp, postWebhook, readFixture, type TestApp } from '../helpers/app.js';
import { loadConfig } from '../../src/config.js';
import { sqliteOf } from '../helpers/storage.js';

let t: TestApp | undefined;
/** BODY_LIMIT when it is not set, as a fresh install runs. */
const DEFAULT_BODY_LIMIT = loadConfig({}).bodyLimit;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('limits and storage failures', () => {
  it('keeps at most REJECTIONS_MAX refused bodies, dropping the oldest', async () => {
    t = await createTestApp({ REJECTIONS_MAX: '3' });
    for (let i = 0; i < 5; i++) {
      const response = await postWebhook(t.app, 'transcript', JSON.stringify({ messages: `not an array ${i}` }));
      expect(response.statusCode).toBe(422);
    }
    const kept = (await t.ctx.storage.listRejections({ limit: 10 })).reverse().map((row) => row.raw);
    expect(kept.map((raw) => JSON.parse(raw.toString()).messages)).toEqual(['not an array 2', 'not an array 3', 'not an array 4']);
  });

  it('answers 413 for a body over BODY_LIMIT and stores nothing', async () => {
    t = await createTestApp({ BODY_LIMIT: '4096' });
    const response = await postWebhook(t.app, 'transcript', readFixture('valid/transcript/large-500-messages.json'));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ status: 413 });
    expect(await countEvents(t.ctx.storage)).toBe(0);
  });

  it('stores a body of exactly the default BODY_LIMIT byte for byte, and answers 413 to one byte more (keeps holding from issue 12)', async () => {
    t = await createTestApp();
    const limit = DEFAULT_BODY_LIMIT;
    /** A valid transcript of exactly `size` bytes: its one message's text fills what the rest leaves. */
    const transcriptOf = (size: number) => {
      const base = JSON.parse(readFixture('valid/transcript/documented.json').toString()) as { messages: Array<Record<string, unknown>> };
      const shell = (text: string) => Buffer.from(JSON.stringify({ ...base, conversationUUID: `at-limit-${size}`, messages: [{ ...base.messages[0], text }] }));
      return shell('x'.repeat(size - shell('').length));
    };
    const atLimit = transcriptOf(limit);
    expect(atLimit.length).toBe(limit);
    const stored = await postWebhook(t.app, 'transcript', atLimit);
    expect(stored.statusCode, stored.body).toBe(200);
    const raw = await t.app.inject({ url: `/api/events/${stored.json<{ id: string }>().id}/raw`, headers: apiHeaders });
    expect(raw.rawPayload.equals(atLimit)).toBe(true);

    const over = await postWebhook(t.app, 'transcript', transcriptOf(limit + 1));
    expect(over.statusCode).toBe(413);
    expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await countEvents(t.ctx.storage)).toBe(1);
  });

  it('answers 503 when the disk is full, and serves again once there is room', async () => {
    t = await createTestApp();
    const { db } = sqliteOf(t.ctx.storage);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const full = await postWebhook(t.app, 'transcript', readFixture('valid/transcript/large-500-messages.json'));
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toBeDefined();
    expect(full.json()).toMatchObject({ status: 503 });
    db.pragma('max_page_count = 1073741823');
    const ok = await postWebhook(t.app, 'transcript', readFixture('valid/transcript/large-500-messages.json'));
    expect(ok.statusCode).toBe(200);
    expect(await countEvents(t.ctx.storage)).toBe(1);
  });

  it('answers 503 when another process holds the database locked past the timeout', async () => {
    t = await createTestApp({ DB_BUSY_TIMEOUT_MS: '100' });
    const other = new Database(sqliteOf(t.ctx.storage).path);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const locked = await postWebhook(t.app, 'feedback', readFixture('valid/feedback/documented.json'));
      expect(locked.statusCode).toBe(503);
      const ready = await t.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const ok = await postWebhook(t.app, 'feedback', readFixture('valid/feedback/documented.json'));
    expect(ok.statusCode).toBe(200);
  });
});
