// Databases on the run's PostgreSQL for tests: fresh ones with random names, and recycled empty ones for test apps and
// server processes (TEST_BACKEND=postgres), and storages opened on them.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { pino } from 'pino';
import { openPostgresStorage, type PostgresOptions, type PostgresStorage } from '../../src/store/postgres/index.js';

/** Creates a database with a random name; returns its URL and a function that drops it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = inject('pgUrl');
  const name = `chatlio_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export const silentLogger = pino({ level: 'silent' });

export function openTestStorage(url: string, overrides: Partial<PostgresOptions> = {}): Promise<PostgresStorage> {
  return openPostgresStorage({ url, poolSize: 5, statementTimeoutMs: 10_000, rejectionsMax: 100, logger: silentLogger, ...overrides });
}

// CREATE DATABASE takes about half a second here (and a first migration more): the suites open hundreds of test apps,
// so each worker keeps its own set of databases, named after its vitest pool id, and empties one for each new user.
// Pool ids are unique among the workers running at once, so no two processes share a name.
const workerPrefix = `chatlio_test_w${process.env.VITEST_POOL_ID ?? `p${process.pid}`}_`;
const inUse = new Set<string>();
// The DATA_DIR each database was last used for: a test that seeds a DATA_DIR with a test app and then starts a server on
// it finds its data, as it would in the SQLite file.
const keptFor = new Map<string, string>();

function databaseUrl(name: string): string {
  const url = new URL(inject('pgUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A database for one test app or server process on `dataDir`: the one last used for the same DATA_DIR, as it was left,
 * when no one holds it; else an empty one, as good as a fresh one (no rows, sequences back at 1, nobody else
 * connected). `release` makes it available to the next caller in this worker.
 */
export async function recycledDatabase(dataDir?: string): Promise<{ url: string; release: () => void }> {
  const kept = dataDir === undefined ? undefined : [...keptFor].find(([name, owner]) => owner === dataDir && !inUse.has(name))?.[0];
  if (kept) {
    inUse.add(kept);
    return { url: databaseUrl(kept), release: () => inUse.delete(kept) };
  }
  let index = 0;
  while (inUse.has(`${workerPrefix}${index}`)) index += 1;
  const name = `${workerPrefix}${index}`;
  inUse.add(name);
  if (dataDir === undefined) keptFor.delete(name);
  else keptFor.set(name, dataDir);
  const serverUrl = inject('pgUrl');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // A storage left open by an earlier test file of this worker must not claim deliveries from the next user.
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    inUse.delete(name);
    throw error;
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  await resetDatabase(url);
  return { url, release: () => inUse.delete(name) };
}

/** Empties every table and restarts every sequence; a database not migrated yet is left as it is. */
async function resetDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ migrated: boolean }>("SELECT to_regclass('public.events') IS NOT NULL AS migrated");
    if (!rows[0]!.migrated) return;
    await client.query("BEGIN; DELETE FROM events; DELETE FROM deliveries; DELETE FROM rejections; DELETE FROM alerts; DELETE FROM handler_health; DELETE FROM ui_sessions; DELETE FROM meta WHERE key <> 'database_id'; COMMIT");
    await client.query("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'");
  } finally {
    await client.end();
  }
}
