// Opens the SQLite database (WAL, durable commits) and brings its schema up to date with the numbered migrations.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureOwnerOnlyDir, ownerOnly } from './modes.js';
import { idCodec, type IdCodec } from '../ids.js';
import { pendingMigrations } from '../migrations.js';

export type Db = Database.Database;

export type DbOptions = {
  /** 'full' survives a power cut; 'normal' only a process crash. */
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
};

export const DB_FILE = 'chatlio-relay.sqlite';
const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export function openDb(path: string, options: DbOptions): Db {
  ensureOwnerOnlyDir(dirname(path));
  // SQLite creates -wal and -shm with the database file's mode: creating it 0600 makes all three owner-only,
  // whatever the umask (SQLite itself would create 0644).
  try {
    writeFileSync(path, '', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) ownerOnly(file);
  const db = new Database(path, { timeout: options.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/** Applies every migration newer than the database's user_version, each in its own transaction. */
export function migrate(db: Db): void {
  for (const migration of pendingMigrations(migrationsDir, schemaVersion(db))) {
    db.transaction(() => {
      db.exec(migration.sql());
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** The database's identity (meta 'database_id', written by migration 006); undefined before it, or in no database of ours. */
export function readDatabaseId(db: Db): string | undefined {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) return undefined;
  const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'database_id'").get();
  return row?.value;
}

/** The public id formats of this database. */
export function databaseIds(db: Db): IdCodec {
  const databaseId = readDatabaseId(db);
  if (!databaseId) throw new Error('the database has no identity: it was not migrated');
  return idCodec(databaseId);
}
