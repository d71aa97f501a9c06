// The connection pool (bigints read as numbers) and the schema migrations, applied by one replica at a time.
import pg from 'pg';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgresUnavailableError } from './errors.js';
import { listMigrations, pendingMigrations } from '../migrations.js';

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

// Keys for pg_advisory_lock(int, int): the first says what the lock is for, so migrations, singletons and claims never collide.
export const LOCK_SPACE = { migrations: 7_401_001, singleton: 7_401_002, claim: 7_401_003 } as const;

const INT8_OID = 20;
const LOCK_NOT_AVAILABLE = '55P03';

// Per pool, not pg.types.setTypeParser: other code in the process keeps node-postgres' defaults. Every int8 we store
// (seqs, unix ms, counts) is far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export type ConnectionOptions = { url: string; statementTimeoutMs: number };

export function clientConfig(options: ConnectionOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    statement_timeout: options.statementTimeoutMs,
    application_name: 'chatlio-relay',
    types,
  };
}

/** host:port/database of a URL, without user or password, for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured PostgreSQL URL';
  }
}

/** A dedicated client (not from the pool): LISTEN, singleton locks and migrations hold a session of their own. */
export async function connectClient(options: ConnectionOptions): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(options));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new PostgresUnavailableError(`cannot connect to PostgreSQL at ${describeUrl(options.url)}: ${(error as Error).message}`);
  }
  return client;
}

export const LATEST_SCHEMA_VERSION = listMigrations(migrationsDir).at(-1)?.version ?? 0;

/**
 * Applies every migration newer than the database's, each in its own transaction, under an advisory lock so replicas
 * starting together migrate once; waits at most `lockTimeoutMs` for another replica's migration.
 */
export async function migrate(client: pg.Client, lockTimeoutMs: number): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
  // A migration may build an index on a large table: no statement timeout for it.
  await client.query('SET statement_timeout = 0');
  try {
    await client.query('SELECT pg_advisory_lock($1, 0)', [LOCK_SPACE.migrations]);
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    throw new PostgresUnavailableError(`another chatlio-relay held the migration lock for more than ${lockTimeoutMs} ms; try again once it has started`);
  }
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_version');
    const current = rows[0]?.version ?? 0;
    for (const migration of pendingMigrations(migrationsDir, current)) {
      await client.query('BEGIN');
      try {
        await client.query(migration.sql());
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [migration.version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, 0)', [LOCK_SPACE.migrations]).catch(() => undefined);
  }
}

export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_version');
  return rows[0]?.version ?? 0;
}

/**
 * Runs `work` in a transaction on a pooled connection. A connection that fails while checked out (the server
 * restarted) would emit an unhandled 'error' and end the process: it is caught here and the connection discarded.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken ??= rollbackError;
    });
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
