// The PostgreSQL storage: the shared contract, then what only several replicas on one database can show (two
// storages stand for two replicas: separate pools, LISTEN connections and advisory-lock sessions).
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStorage, PostgresUnavailableError, type PostgresStorage } from '../../src/store/postgres/index.js';
import { SchemaTooNewError } from '../../src/store/migrations.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/postgres/connection.js';
import { claimOf, newEvent } from './conformance.js';
import { freshDatabase, openTestStorage, silentLogger } from '../helpers/postgres.js';

const databases: Array<() => Promise<void>> = [];
const storages: PostgresStorage[] = [];

async function database(): Promise<string> {
  const { url, drop } = await freshDatabase();
  databases.push(drop);
  return url;
}

async function replica(url: string, poolSize = 5): Promise<PostgresStorage> {
  const storage = await openTestStorage(url, { poolSize });
  storages.push(storage);
  return storage;
}

afterAll(async () => {
  await Promise.all(storages.map((storage) => storage.close().catch(() => undefined)));
  await Promise.all(databases.map((drop) => drop()));
});

// The storage contract itself runs on PostgreSQL through test/store/conformance.test.ts (the postgres project).

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('postgres: full-text limits', () => {
  it('stores a transcript whose words exceed the 1 MB tsvector limit, its first words searchable', async () => {
    const storage = await replica(await database());
    const words = Array.from({ length: 150_000 }, (_, i) => `w${i.toString(36)}x${i}`);
    const text = `opening ${words.join(' ')}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_500_000);
    const stored = await storage.ingest(newEvent({ text }));
    const found = await storage.listEvents({ search: [{ tokens: ['opening'], prefix: false }] }, { limit: 5 });
    expect(found.rows.map((row) => row.seq)).toEqual([stored.seq]);
  });
});

describe('postgres: several replicas on one database', () => {
  it('stores a body sent to two replicas at once exactly once', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    for (let round = 0; round < 20; round += 1) {
      const event = newEvent({ raw: `{"round":${round}}`, plan: { create: [{ handler: 'slack', dueAt: 0, conversationUUID: null }] } });
      const [first, second] = await Promise.all([a.ingest(event), b.ingest(event)]);
      expect(first.seq).toBe(second.seq);
      expect([first.duplicate, second.duplicate].sort()).toEqual([false, true]);
      expect(await a.deliveriesForEvent(first.seq)).toHaveLength(1);
    }
  });

  it('stores two bodies sent to two replicas in opposite orders once each (the batches wait on each other)', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    const x = newEvent({ raw: '{"x":1}' });
    const y = newEvent({ raw: '{"y":1}' });
    const results = await Promise.all([a.ingest(x), a.ingest(y), b.ingest(y), b.ingest(x)]);
    expect(results[0]!.seq).toBe(results[3]!.seq);
    expect(results[1]!.seq).toBe(results[2]!.seq);
    expect(results.filter((result) => !result.duplicate)).toHaveLength(2);
    expect((await a.listEvents({}, { limit: 10 })).rows).toHaveLength(2);
  });

  it('never gives two replicas claiming at once the same delivery, nor more than the global concurrency', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    const now = Date.now();
    await Promise.all(Array.from({ length: 40 }, () => a.ingest(newEvent({ plan: { create: [{ handler: 'http', dueAt: now - 1, conversationUUID: null }] } }))));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).claimDue(claimOf('http', { concurrency: 6 }), now)));
    const seqs = claims.flat().map((delivery) => delivery.seq);
    expect(seqs).toHaveLength(6);
    expect(new Set(seqs).size).toBe(6);

    // Finishing two frees two slots, wherever they are claimed next.
    for (const delivery of claims.flat().slice(0, 2)) {
      await a.recordAttempt({ deliverySeq: delivery.seq, attemptId: delivery.attemptId, claimToken: delivery.claimToken, durationMs: 1, outcome: 'succeeded', next: { status: 'succeeded' } });
    }
    const more = await Promise.all([a.claimDue(claimOf('http', { concurrency: 6 }), now), b.claimDue(claimOf('http', { concurrency: 6 }), now)]);
    expect(more.flat()).toHaveLength(2);
    expect(seqs).not.toEqual(expect.arrayContaining(more.flat().map((d) => d.seq)));
  });

  it('lets a stale claim record nothing once the reaper handed the delivery to another replica', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    const now = Date.now();
    await a.ingest(newEvent({ plan: { create: [{ handler: 'http', dueAt: now, conversationUUID: null }] } }));
    const [stale] = await a.claimDue(claimOf('http', { leaseMs: 1 }), now);
    expect(await b.reapExpiredLeases(now + 1)).toBe(1);
    const [fresh] = await b.claimDue(claimOf('http'), now + 1);
    expect(fresh!.seq).toBe(stale!.seq);
    expect(fresh!.attempt).toBe(2);
    const done = { durationMs: 1, outcome: 'succeeded' as const, next: { status: 'succeeded' as const } };
    expect(await a.recordAttempt({ ...done, deliverySeq: stale!.seq, attemptId: stale!.attemptId, claimToken: stale!.claimToken })).toBe(false);
    expect(await b.recordAttempt({ ...done, deliverySeq: fresh!.seq, attemptId: fresh!.attemptId, claimToken: fresh!.claimToken })).toBe(true);
    expect((await a.attempts(fresh!.seq)).map((attempt) => attempt.outcome)).toEqual(['interrupted', 'succeeded']);
  });

  it('wakes a listener on another replica when deliveries are created or redelivered', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    let woken = 0;
    b.onDeliveriesDue(() => (woken += 1));
    await b.listening();
    await a.ingest(newEvent({ text: 'no deliveries planned' }));
    const event = await a.ingest(newEvent({ plan: { create: [{ handler: 'http', dueAt: Date.now(), conversationUUID: null }] } }));
    await until(() => woken > 0, 'the NOTIFY to reach the other replica');
    const before = woken;
    await a.redeliverEvent(event.seq, { create: [] });
    await until(() => woken > before, 'the redelivery NOTIFY');
  });

  it('listens again after its LISTEN connection is killed, and wakes its listeners then', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    let woken = 0;
    b.onDeliveriesDue(() => (woken += 1));
    await b.listening();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN chatlio_relay_due'",
      );
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    // Notifications sent while it was away are lost, so coming back wakes everyone once.
    await until(() => woken > 0, 'the wake-up after reconnecting');
    await until(async () => {
      const before = woken;
      await a.ingest(newEvent({ plan: { create: [{ handler: 'http', dueAt: Date.now(), conversationUUID: null }] } }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      return woken > before;
    }, 'a NOTIFY after reconnecting');
  });

  it('runs a singleton job on one replica at a time', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const running = a.singleton('retention', async () => {
      started = true;
      await held;
      return 'a ran';
    });
    await until(() => started, 'the first job to start');
    expect(await b.singleton('retention', async () => 'b ran')).toBeUndefined();
    expect(await b.singleton('alerts', async () => 'b ran')).toBe('b ran');
    release();
    expect(await running).toBe('a ran');
    expect(await b.singleton('retention', async () => 'b ran')).toBe('b ran');
  });

  it('migrates once when two replicas start at once on an empty database', async () => {
    const url = await database();
    const [a, b, c] = await Promise.all([replica(url), replica(url), replica(url)]);
    const ingested = await Promise.all([a, b, c].map((storage) => storage.ingest(newEvent())));
    expect(new Set(ingested.map((result) => result.seq)).size).toBe(3);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_version ORDER BY version');
    await client.end();
    expect(rows.map((row) => row.version)).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('refuses a database migrated by a newer chatlio-relay', async () => {
    const url = await database();
    await (await replica(url)).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('INSERT INTO schema_version (version) VALUES ($1)', [LATEST_SCHEMA_VERSION + 1]);
    await client.end();
    const opening = openTestStorage(url);
    await expect(opening).rejects.toBeInstanceOf(SchemaTooNewError);
    await expect(opening).rejects.toThrow(`database schema version ${LATEST_SCHEMA_VERSION + 1} is newer than this chatlio-relay understands`);
  });

  it('says in one line that the server cannot be reached, without the password', async () => {
    const opening = openPostgresStorage({ url: 'postgres://relay:s3cret@127.0.0.1:1/chatlio', poolSize: 1, statementTimeoutMs: 1000, rejectionsMax: 10, logger: silentLogger });
    await expect(opening).rejects.toBeInstanceOf(PostgresUnavailableError);
    const message = await opening.catch((error: Error) => error.message);
    expect(message).toMatch(/^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/chatlio: /);
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('\n');
  });

  it('walks every event once with the cursor while another replica keeps inserting', async () => {
    const url = await database();
    const [a, b] = [await replica(url), await replica(url)];
    const existing = new Set<number>();
    for (let i = 0; i < 60; i += 1) existing.add((await a.ingest(newEvent({ type: 'feedback', text: `walk ${i}` }))).seq);
    let inserting = true;
    const writer = (async () => {
      while (inserting) await Promise.all([b.ingest(newEvent({ type: 'feedback', text: 'walk new' })), b.ingest(newEvent({ type: 'transcript', text: 'walk new' }))]);
    })();
    const seen: number[] = [];
    let before: number | undefined;
    const page0 = await a.listEvents({ types: ['feedback'], search: [{ tokens: ['walk'], prefix: false }] }, { limit: 1 });
    before = page0.rows[0]!.seq + 1;
    for (;;) {
      const page = await a.listEvents({ types: ['feedback'], search: [{ tokens: ['walk'], prefix: false }] }, { before, limit: 7 });
      seen.push(...page.rows.map((row) => row.seq));
      if (page.next === null) break;
      before = page.next;
    }
    inserting = false;
    await writer;
    expect(new Set(seen).size).toBe(seen.length);
    for (const seq of existing) expect(seen).toContain(seq);
  });
});
