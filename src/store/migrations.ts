// The migration files both backends apply in order (NNN_name.sql in the backend's migrations folder), and the check
// that a database was not migrated by a newer chatlio-relay.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type Migration = { version: number; sql: () => string };

/** The database was migrated by a newer chatlio-relay: its rows may mean what this code does not know. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

export function listMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .map((file) => ({ version: Number.parseInt(file, 10), sql: () => readFileSync(join(dir, file), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** The migrations a database at version `current` still needs; throws SchemaTooNewError when it is past the last. */
export function pendingMigrations(dir: string, current: number): Migration[] {
  const migrations = listMigrations(dir);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new SchemaTooNewError(
      `database schema version ${current} is newer than this chatlio-relay understands (${latest}); upgrade chatlio-relay or restore a backup`,
    );
  }
  return migrations.filter((migration) => migration.version > current);
}
