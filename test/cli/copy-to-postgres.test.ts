// copy-to-postgres through the real binary: a SQLite file filled by the real server, copied into the test PostgreSQL.
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_TOKEN, manifest, readFixture, tempDir } from '../helpers/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { freshDatabase, openTestStorage } from '../helpers/postgres.js';
import { CLI, freePort, startServer, stopServer, waitFor } from '../helpers/server.js';
import { startSink } from '../helpers/sink.js';
import { openSqliteStorage } from '../../src/store/sqlite/index.js';
import { parseSearchQuery } from '../../src/store/search-terms.js';

const EVENTS = 40;
let sqliteFile: string;
let source: { events: number; deliveries: number; attempts: number; rejections: number; firstResponses: number };
// The public ids the SQLite server answered with.
const idsGiven: string[] = [];
const databases: Array<{ drop: () => Promise<void> }> = [];

async function database(): Promise<string> {
  const created = await freshDatabase();
  databases.push(created);
  return created.url;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const count = async (url: string, table: string) => Number((await query<{ n: string }>(url, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

function sqliteRows<T>(sql: string): T[] {
  const db = new Database(sqliteFile, { readonly: true });
  try {
    return db.prepare<[], T>(sql).all();
  } finally {
    db.close();
  }
}

/** Every event of the SQLite file is in PostgreSQL under the same seq with the same bytes. */
async function expectSameEvents(url: string): Promise<void> {
  const expected = sqliteRows<{ seq: number; raw: Buffer }>('SELECT seq, raw FROM events ORDER BY seq');
  const copied = await query<{ seq: string; raw: Buffer }>(url, 'SELECT seq, raw FROM events ORDER BY seq');
  expect(copied.map((row) => Number(row.seq))).toEqual(expected.map((row) => row.seq));
  for (const [index, row] of expected.entries()) expect(copied[index]!.raw.equals(row.raw), `event ${row.seq}`).toBe(true);
}

beforeAll(async () => {
  // Deliveries that succeed and that failed (to be retried), so attempts of both outcomes are copied.
  const sink = await startSink((_request, index) => ({ status: index % 3 === 0 ? 503 : 200 }));
  const configDir = tempDir('chatlio-relay-copy-config-');
  const configFile = join(configDir, 'config.yaml');
  writeFileSync(
    configFile,
    stringify({ handlers: [{ name: 'forward', type: 'http', events: '*', options: { url: sink.url } }] }),
  );
  // The source is SQLite whatever backend the suite runs on: an empty DATABASE_URL means unset.
  const server = await startServer({ CONFIG_FILE: configFile, DATABASE_URL: '' });
  sqliteFile = join(server.dataDir, 'chatlio-relay.sqlite');
  try {
    const post = (type: string, body: Buffer | string) =>
      fetch(`${server.url}/webhooks/chatlio/${type}?token=${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
    for (const entry of manifest()) {
      if (entry.expect !== 200 && entry.expect !== 422) continue;
      const answer = await post(entry.type, readFixture(entry.file));
      expect(answer.status, entry.file).toBe(entry.expect);
    }
    const transcript = JSON.parse(readFixture('valid/transcript/documented.json').toString()) as Record<string, unknown>;
    for (let index = 0; index < EVENTS; index += 1) {
      const answer = await post('transcript', JSON.stringify({ ...transcript, conversationUUID: `copy-${index}`, chatFeedback: `copied zebra${index}` }));
      expect(answer.status).toBe(200);
      idsGiven.push(((await answer.json()) as { id: string }).id);
    }
    await waitFor(() => {
      const open = sqliteRows<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE status IN ('pending', 'running')")[0]!.n;
      return open === 0 ? true : undefined;
    }, 20_000, 'every delivery to be attempted').catch((error: unknown) => {
      console.error(sqliteRows("SELECT status, count(*) FROM deliveries GROUP BY status"), server.output());
      throw error;
    });
  } finally {
    await stopServer(server);
    await sink.close();
  }
  const n = (table: string) => sqliteRows<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)[0]!.n;
  source = {
    events: n('events'),
    deliveries: n('deliveries'),
    attempts: n('delivery_attempts'),
    rejections: n('rejections'),
    firstResponses: n('transcript_first_response'),
  };
  expect(source.events).toBeGreaterThan(EVENTS);
  expect(source.rejections).toBeGreaterThan(0);
  expect(source.attempts).toBeGreaterThanOrEqual(source.deliveries);
}, 60_000);

afterAll(async () => {
  for (const created of databases) await created.drop();
});

describe('chatlio-relay copy-to-postgres', () => {
  it('copies every event byte for byte under its id, with deliveries, attempts, rejections and search, and verifies it', async () => {
    const url = await database();
    const result = await runCli(['copy-to-postgres', '--from', sqliteFile], { DATABASE_URL: url }, 60_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^copied .* and verified: ${source.events} events, 0 alerts, ${source.deliveries} deliveries, ${source.attempts} delivery_attempts, ${source.rejections} rejections, ${source.firstResponses} transcript_first_response; raw bodies sha256 [0-9a-f]{64}\\n$`));
    expect(result.stderr).toMatch(/^copying events: /m);

    await expectSameEvents(url);
    expect(await count(url, 'deliveries')).toBe(source.deliveries);
    expect(await count(url, 'delivery_attempts')).toBe(source.attempts);
    expect(await count(url, 'rejections')).toBe(source.rejections);
    expect(await count(url, 'transcript_first_response')).toBe(source.firstResponses);

    // Through the PostgreSQL storage: the same public ids, delivery states, and the search rebuilt from the bodies.
    const storage = await openTestStorage(url);
    try {
      for (const id of idsGiven) expect((await storage.getEvent(storage.parseEventId(id)!))?.id).toBe(id);
      const found = await storage.listEvents({ search: parseSearchQuery('zebra7') }, { limit: 10 });
      expect(found.rows.map((row) => row.seq)).toEqual(
        sqliteRows<{ seq: number }>("SELECT seq FROM events WHERE conversation_uuid = 'copy-7'").map((row) => row.seq),
      );
      const statuses = sqliteRows<{ id: number; status: string }>('SELECT id, status FROM deliveries ORDER BY id');
      for (const { id, status } of statuses) expect((await storage.getDelivery(id))?.status, `delivery ${id}`).toBe(status);
    } finally {
      await storage.close();
    }
    // New rows continue after the copied ids instead of colliding with them.
    const next = await query<{ seq: string }>(url, "SELECT nextval(pg_get_serial_sequence('events', 'seq')) AS seq");
    expect(Number(next[0]!.seq)).toBeGreaterThan(source.events);
  });

  it('resumes a copy killed mid-way and ends with a verified copy', async () => {
    const url = await database();
    const child = spawn(process.execPath, [CLI, 'copy-to-postgres', '--from', sqliteFile, '--to', url, '--batch-size', '1'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<string | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    // Killed after the first line that reports copied rows: some events are in, the rest are not.
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/copying events: [1-9]/.test(stderr)) child.kill('SIGKILL');
    });
    expect(await exited, stderr).toBe('SIGKILL');
    expect(stdout).toBe('');
    const partial = await count(url, 'events');
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(source.events);

    const resumed = await runCli(['copy-to-postgres', '--from', sqliteFile, '--to', url, '--batch-size', '500'], {}, 60_000);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stderr).toContain(`copying events: ${partial} of ${source.events}`);
    expect(resumed.stdout).toMatch(/ and verified: /);
    await expectSameEvents(url);
    expect(await count(url, 'delivery_attempts')).toBe(source.attempts);
  });

  it('on a second run after the relay moved on, brings unfinished deliveries up to date and copies what is new', async () => {
    const url = await database();
    // A copy of the file stands for the live database: the first pass copies it, then the relay works on.
    const live = join(tempDir('chatlio-relay-copy-live-'), 'chatlio-relay.sqlite');
    copyFileSync(sqliteFile, live);
    const db = new Database(live);
    // A delivery waiting for its retry when the first pass runs (as after a 503), whatever the seeding's timing left.
    const failed = db.prepare<[], { id: number }>('SELECT max(id) AS id FROM deliveries').get()!.id;
    db.prepare("UPDATE deliveries SET status = 'failed', attempts = 1, due_at = 4102444800000, last_status_code = 503 WHERE id = ?").run(failed);
    expect((await runCli(['copy-to-postgres', '--from', live, '--to', url], {}, 60_000)).code).toBe(0);
    // What the worker would write on a successful retry: the delivery and its new attempt.
    db.prepare("UPDATE deliveries SET status = 'succeeded', attempts = attempts + 1, due_at = NULL, last_status_code = 200 WHERE id = ?").run(failed);
    db.prepare("INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, outcome, status_code) VALUES (?, 2, 1, 5, 'succeeded', 200)").run(failed);
    db.close();

    const second = await runCli(['copy-to-postgres', '--from', live, '--to', url], {}, 60_000);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    const [row] = await query<{ status: string; attempts: number; due_at: string | null }>(url, 'SELECT status, attempts, due_at FROM deliveries WHERE id = $1', [failed]);
    expect(row).toEqual({ status: 'succeeded', attempts: 2, due_at: null });
    expect(await count(url, 'delivery_attempts')).toBe(source.attempts + 1);
  });

  it('copies alerts with their notifications and the handlers\' failure streaks, and a resolution made after the first pass', async () => {
    const url = await database();
    // The relay's own storage opens alerts in a copy of the file (its identity file beside it), as the evaluator does.
    const dir = tempDir('chatlio-relay-copy-alerts-');
    const live = join(dir, 'chatlio-relay.sqlite');
    copyFileSync(sqliteFile, live);
    copyFileSync(`${sqliteFile}.id`, `${live}.id`);
    const open = async () => openSqliteStorage({ path: live, synchronous: 'full', busyTimeoutMs: 5_000, rejectionsMax: 10_000 });
    let sqlite = await open();
    const detail = { summary: 'forward failed 5 times in a row', advice: 'check the receiver', handler: 'forward', lastError: 'HTTP 503', lastStatusCode: 503 };
    const resolved = (await sqlite.openAlert({ kind: 'failing', subject: 'forward', detail }, ['forward'], 1_000))!;
    await sqlite.resolveAlert(resolved.id, ['forward'], 2_000);
    const stillOpen = (await sqlite.openAlert({ kind: 'failing', subject: 'forward', detail }, ['forward'], 3_000))!;
    const health = await sqlite.handlerHealth('forward');
    expect(health).toBeDefined();
    await sqlite.close();

    const first = await runCli(['copy-to-postgres', '--from', live, '--to', url], {}, 60_000);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/ and verified: \d+ events, 2 alerts, /);

    // The relay resolves the open alert before it is stopped for the second pass.
    sqlite = await open();
    await sqlite.resolveAlert(stillOpen.id, ['forward'], 4_000);
    const expectedAlerts = await sqlite.listAlerts({ limit: 10 });
    const file = new Database(live, { readonly: true });
    const notificationIds = file.prepare<[], { id: number }>('SELECT id FROM deliveries WHERE alert_id IS NOT NULL ORDER BY id').all();
    file.close();
    const alertDeliveries = await Promise.all(notificationIds.map(({ id }) => sqlite.getDelivery(id)));
    await sqlite.close();
    // At least the open alert's trigger (a resolve cancels a trigger not yet sent, so the count depends on timing).
    expect(alertDeliveries.length).toBeGreaterThan(0);
    for (const delivery of alertDeliveries) expect(delivery?.alertId).toEqual(expect.any(Number));

    const second = await runCli(['copy-to-postgres', '--from', live, '--to', url], {}, 60_000);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    const storage = await openTestStorage(url);
    try {
      expect(await storage.listAlerts({ limit: 10 })).toEqual(expectedAlerts);
      expect(await storage.openAlerts()).toEqual([]);
      for (const delivery of alertDeliveries) {
        expect(await storage.getDelivery(storage.parseDeliveryId(delivery!.id)!)).toMatchObject({ alertId: delivery!.alertId, alertAction: delivery!.alertAction, eventId: null });
      }
      expect(await storage.handlerHealth('forward')).toEqual(health);
      // The next alert takes an id after the copied ones.
      const next = await storage.openAlert({ kind: 'dead', subject: 'forward', detail }, [], 5_000);
      expect(next!.id).toBeGreaterThan(stillOpen.id);
    } finally {
      await storage.close();
    }
  });

  it('copies a delivery a stopped SQLite server left running as pending and due at once, its open attempt interrupted', async () => {
    const url = await database();
    const crashed = join(tempDir('chatlio-relay-copy-crashed-'), 'chatlio-relay.sqlite');
    copyFileSync(sqliteFile, crashed);
    // What a server killed mid-attempt leaves behind: a running delivery with an attempt that has no outcome.
    const db = new Database(crashed);
    const id = db.prepare<[], { id: number }>('SELECT max(id) AS id FROM deliveries').get()!.id;
    db.prepare("UPDATE deliveries SET status = 'running', due_at = NULL, attempts = attempts + 1 WHERE id = ?").run(id);
    db.prepare('INSERT INTO delivery_attempts (delivery_id, attempt, started_at) VALUES (?, 9, 1)').run(id);
    db.close();

    const before = Date.now();
    const result = await runCli(['copy-to-postgres', '--from', crashed, '--to', url], {}, 60_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const [delivery] = await query<{ status: string; due_at: string; lease_until: Date | null; claim_token: string | null }>(
      url,
      'SELECT status, due_at, lease_until, claim_token FROM deliveries WHERE id = $1',
      [id],
    );
    expect(delivery).toMatchObject({ status: 'pending', lease_until: null, claim_token: null });
    expect(Number(delivery!.due_at)).toBeGreaterThanOrEqual(before);
    expect(Number(delivery!.due_at)).toBeLessThanOrEqual(Date.now());
    const attempts = await query<{ outcome: string | null }>(url, 'SELECT outcome FROM delivery_attempts WHERE delivery_id = $1 AND attempt = 9', [id]);
    expect(attempts).toEqual([{ outcome: 'interrupted' }]);
  });

  it('exits 1 naming the difference when a copied body no longer matches the SQLite file', async () => {
    const url = await database();
    expect((await runCli(['copy-to-postgres', '--from', sqliteFile, '--to', url], {}, 60_000)).code).toBe(0);
    await query(url, "UPDATE events SET raw = raw || '\\x20'::bytea WHERE seq = (SELECT max(seq) FROM events)");

    // Run again: nothing is left to copy, and the verification finds the changed body.
    const result = await runCli(['copy-to-postgres', '--from', sqliteFile, '--to', url], {}, 60_000);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^copy to .* NOT verified: raw bodies differ \(sha256 [0-9a-f]{16}… in SQLite, [0-9a-f]{16}… in PostgreSQL\)\n$/);
  });

  it('refuses a database that holds a copy of another SQLite file, and leaves it as it was', async () => {
    const url = await database();
    expect((await runCli(['copy-to-postgres', '--from', sqliteFile, '--to', url], {}, 60_000)).code).toBe(0);
    // Another database: same tables, a different first event.
    const other = join(tempDir('chatlio-relay-copy-other-'), 'chatlio-relay.sqlite');
    copyFileSync(sqliteFile, other);
    const db = new Database(other);
    db.prepare('UPDATE events SET body_sha256 = randomblob(32) WHERE seq = (SELECT min(seq) FROM events)').run();
    db.close();

    const result = await runCli(['copy-to-postgres', '--to', url], { DATA_DIR: join(other, '..') });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'chatlio-relay copy-to-postgres: the PostgreSQL database already holds data that is not a copy of this SQLite file; copy into an empty database',
    );
    expect(await count(url, 'events')).toBe(source.events);
  });

  it('answers a URL that is not postgres:// with one line and exit code 2, without printing it', async () => {
    for (const bad of ['not a url secret', 'http://user:secret@127.0.0.1/db']) {
      const result = await runCli(['copy-to-postgres', '--from', sqliteFile, '--to', bad]);
      expect(result.code).toBe(2);
      expect(oneLineError(result)).toMatch(/^chatlio-relay copy-to-postgres: the PostgreSQL URL /);
      expect(result.stderr).not.toContain('secret');
    }
    const missing = await runCli(['copy-to-postgres', '--from', sqliteFile]);
    expect(missing.code).toBe(2);
    expect(oneLineError(missing)).toBe('chatlio-relay copy-to-postgres: no PostgreSQL URL: pass --to or set DATABASE_URL');
  });

  it('answers a --from that is not a chatlio-relay database with one line and exit code 1', async () => {
    const notSqlite = join(tempDir('chatlio-relay-copy-text-'), 'notes.txt');
    writeFileSync(notSqlite, 'not a database, just text that is long enough to have a header of its own');
    const empty = join(tempDir('chatlio-relay-copy-empty-'), 'empty.sqlite');
    const made = new Database(empty);
    made.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY)');
    made.close();
    const url = 'postgres://relay@127.0.0.1:1/chatlio';
    const text = await runCli(['copy-to-postgres', '--from', notSqlite, '--to', url]);
    expect(text.code).toBe(1);
    expect(oneLineError(text)).toMatch(/^chatlio-relay copy-to-postgres: cannot open .*notes\.txt: /);
    const other = await runCli(['copy-to-postgres', '--from', empty, '--to', url]);
    expect(other.code).toBe(1);
    expect(oneLineError(other)).toMatch(/is not a chatlio-relay database of schema version 3 or newer \(no deliveries, delivery_attempts, rejections, transcript_first_response table\)$/);
  });

  it('answers an unreachable server with one line and exit code 1, without the password', async () => {
    const port = await freePort();
    const result = await runCli(['copy-to-postgres', '--from', sqliteFile, '--to', `postgres://relay:secret@127.0.0.1:${port}/chatlio`]);
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(new RegExp(`^chatlio-relay copy-to-postgres: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/chatlio: `));
    expect(result.stderr).not.toContain('secret');
  });
});
