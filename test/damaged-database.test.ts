// Issue 12 defect 13: a damaged database answered 500 and reported ready (random bytes over a few pages: /readyz 200,
// webhooks 500; damaged event pages: GET 500 and an export cut short under HTTP 200).
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, apiHeaders, createTestApp, postWebhook, readFixture, type TestApp } from './helpers/app.js';
import { oneLineError, runCli } from './helpers/cli.js';
import { sqliteOf } from './helpers/storage.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const feedback = (i: number) => {
  const body = JSON.parse(readFixture('valid/feedback/documented.json').toString()) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...body, comment: `${i} ${'words '.repeat(400)}` }));
};

/**
 * An app whose database holds `n` events, then random bytes over the pages from `first` (past the tables' roots) up
 * to `last` (the end of the file by default).
 */
async function damagedApp(n: number, first = 40, last?: number): Promise<TestApp> {
  const app = await createTestApp();
  for (let i = 0; i < n; i++) expect((await postWebhook(app.app, 'feedback', feedback(i))).statusCode).toBe(200);
  expect((await app.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  const storage = sqliteOf(app.ctx.storage);
  storage.db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = storage.db.pragma('page_count', { simple: true }) as number;
  expect(pages).toBeGreaterThan(100);
  const fd = openSync(storage.path, 'r+');
  for (let page = first; page < (last ?? pages); page++) writeSync(fd, randomBytes(4096), 0, 4096, page * 4096);
  closeSync(fd);
  // The server's connection would serve these pages from its cache (a large database does not fit there): drop it.
  storage.db.pragma('shrink_memory');
  return app;
}

describe('defect 13: a damaged database is a storage failure', () => {
  it('answers webhooks 503 with Retry-After, /readyz 503 with the reason, and logs one loud line', async () => {
    t = await damagedApp(120);
    for (let i = 0; i < 3; i++) {
      const response = await postWebhook(t.app, 'feedback', feedback(1000 + i));
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json<{ detail: string }>().detail).toMatch(/is damaged \(SQLITE_(CORRUPT|NOTADB)/);
    const loud = t.logs().split('\n').filter((line) => line.includes('is damaged (SQLITE_'));
    expect(loud).toHaveLength(1);
    expect(loud[0]).toContain('"level":50');
  });

  it('answers reads of damaged pages 503, not 500', async () => {
    t = await damagedApp(120);
    const response = await t.app.inject({ url: '/api/events?limit=100', headers: apiHeaders });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
  });

  it('aborts an export that meets damage midway, so the client sees an error and never a clean end', async () => {
    // The oldest events' pages: an export (newest first) sends its first pages, then meets the damage.
    t = await damagedApp(400, 60, 90);
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const outcome = await new Promise<{ status: number; bytes: number; ended: 'clean' | 'aborted' }>((resolve) => {
      const req = request(`${address}/api/events/export?format=ndjson`, { headers: apiHeaders }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => resolve({ status: response.statusCode!, bytes, ended: 'clean' }));
        response.on('error', () => resolve({ status: response.statusCode!, bytes, ended: 'aborted' }));
        response.on('aborted', () => resolve({ status: response.statusCode!, bytes, ended: 'aborted' }));
      });
      req.on('error', () => resolve({ status: 0, bytes: 0, ended: 'aborted' }));
      req.end();
    });
    expect(outcome.status).toBe(200);
    expect(outcome.bytes).toBeGreaterThan(0);
    expect(outcome.ended).toBe('aborted');

    // Our own client too: `chatlio-relay export` fails with one line instead of exiting 0 on a cut-short file.
    const cli = await runCli(['export', '--url', address], { API_TOKEN });
    expect(cli.stdout.length).toBeGreaterThan(0);
    expect(cli.code).not.toBe(0);
    expect(oneLineError(cli)).toMatch(/^chatlio-relay export: the export ended before it was complete \(.+\): the output is incomplete/);
  });
});
