// A fresh database per test file on the run's PostgreSQL, and storages opened on it.
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

/** Empties every table of the storage schema: a fresh storage without a fresh database (DELETE: TRUNCATE's new files cost more on small tables). */
export async function emptyDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Deliveries, attempts and first responses go with their events (ON DELETE CASCADE).
    await client.query("BEGIN; DELETE FROM events; DELETE FROM rejections; DELETE FROM meta WHERE key <> 'database_id'; COMMIT");
  } finally {
    await client.end();
  }
}
