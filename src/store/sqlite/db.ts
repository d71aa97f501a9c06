// Opens the SQLite database (WAL, durable commits) and brings its schema up to date with the numbered migrations.
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Db = Database.Database;

export type DbOptions = {
  /** 'full' survives a power cut; 'normal' only a process crash. */
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
};

export const DB_FILE = 'chatlio-relay.sqlite';
const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

export function openDb(path: string, options: DbOptions): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

type Migration = { version: number; file: string };

function listMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .map((file) => ({ version: Number.parseInt(file, 10), file }))
    .sort((a, b) => a.version - b.version);
}

/** Applies every migration newer than the database's user_version, each in its own transaction. */
export function migrate(db: Db): void {
  const migrations = listMigrations();
  const latest = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new SchemaTooNewError(
      `database schema version ${current} is newer than this chatlio-relay understands (${latest}); upgrade chatlio-relay or restore a backup`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    const sql = readFileSync(join(migrationsDir, migration.file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
