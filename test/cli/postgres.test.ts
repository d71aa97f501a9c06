// DATABASE_URL at start-up and in the CLI: malformed or unreachable stops in one line, tokens must come from the
// environment, DATA_DIR is never touched, and `backup` points to pg_dump.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { API_TOKEN, WEBHOOK_TOKEN, postWebhook, readFixture, tempDir } from '../helpers/app.js';
import { loadConfig } from '../../src/config.js';
import { closeContext, createContext } from '../../src/context.js';
import { buildApp } from '../../src/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { freePort, startServer, stopServer } from '../helpers/server.js';
import { freshDatabase, openTestStorage, silentLogger } from '../helpers/postgres.js';
import { isStorageUnavailable } from '../../src/errors.js';

const tokens = { WEBHOOK_TOKEN, API_TOKEN };
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(drops.map((drop) => drop()));
});

describe('DATABASE_URL', () => {
  it('stops with exit 2 naming DATABASE_URL, without echoing it, when it is not a postgres URL', async () => {
    const result = await runCli(['serve'], { ...tokens, DATABASE_URL: 'mysql://user:s3cret@db/x', DATA_DIR: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(result.stderr).not.toContain('s3cret');
  });

  it('stops with exit 2 naming both WEBHOOK_TOKEN and API_TOKEN when they are not in the environment', async () => {
    const dataDir = join(tempDir(), 'never-created');
    const result = await runCli(['serve'], { DATABASE_URL: 'postgres://127.0.0.1:1/x', WEBHOOK_TOKEN, DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/WEBHOOK_TOKEN and API_TOKEN must both be set/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('stops with exit 1 and one line on stderr when the server cannot be reached', async () => {
    const port = await freePort();
    const result = await runCli(['serve'], { ...tokens, DATABASE_URL: `postgres://relay:s3cret@127.0.0.1:${port}/chatlio`, DATA_DIR: tempDir() });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(new RegExp(`^chatlio-relay: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/chatlio: .*ECONNREFUSED`));
    expect(`${result.stdout}${result.stderr}`).not.toContain('s3cret');
  });

  it('serves on PostgreSQL without creating or reading anything in DATA_DIR', async () => {
    const { url, drop } = await freshDatabase();
    drops.push(drop);
    const dataDir = tempDir();
    const server = await startServer({ DATABASE_URL: url, DATA_DIR: dataDir });
    try {
      const posted = await fetch(`${server.url}/webhooks/chatlio/unanswered?token=${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visitor: { email: 'ann@example.com' }, messages: [] }),
      });
      expect([200, 422]).toContain(posted.status);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/chatlio_relay_database_size_bytes \d+/);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("answers backup in one line that it is SQLite's and to use pg_dump, exit 2", async () => {
    const result = await runCli(['backup', '/tmp/never.sqlite'], { ...tokens, DATABASE_URL: 'postgres://127.0.0.1:1/x' });
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe(
      "chatlio-relay backup: backup is SQLite's online backup; with DATABASE_URL set, back up PostgreSQL with pg_dump (see docs/postgres.md)",
    );
  });
});

describe('PostgreSQL failures as 503', () => {
  it('answers a webhook 503 with Retry-After when its insert hits the statement timeout (a table locked by another session)', async () => {
    const { url, drop } = await freshDatabase();
    drops.push(drop);
    const config = loadConfig({ ...tokens, DATA_DIR: tempDir(), LOG_LEVEL: 'silent' });
    const storage = await openTestStorage(url, { statementTimeoutMs: 300 });
    const ctx = await createContext(config, silentLogger, { storage });
    const app = await buildApp(ctx);
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      const answer = await postWebhook(app, 'unanswered', readFixture('valid/unanswered/documented.json'));
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.json()).toMatchObject({ status: 503, detail: 'storage is unavailable; retry later' });
      await locker.query('ROLLBACK');
      expect((await postWebhook(app, 'unanswered', readFixture('valid/unanswered/documented.json'))).statusCode).toBe(200);
    } finally {
      await locker.end();
      await app.close();
      await closeContext(ctx);
    }
  });

  it('treats a refused connection, an admin shutdown, too many connections and a statement timeout as storage unavailable, and a constraint violation not', () => {
    expect(isStorageUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    for (const code of ['57P01', '53300', '57014', '08006']) expect(isStorageUnavailable(Object.assign(new Error('x'), { code }))).toBe(true);
    expect(isStorageUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStorageUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isStorageUnavailable(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(true);
  });
});
