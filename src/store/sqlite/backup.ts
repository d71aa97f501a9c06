// SQLite's online backup of the live database into one self-contained, checked file.
import Database from 'better-sqlite3';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Db } from './db.js';
import { schemaVersion } from './db.js';

const ALL_PAGES = 0x7fffffff;

export class BackupError extends Error {
  override name = 'BackupError';
}

/** Copies `db` to `target` (written as target.partial, renamed when checked); returns its size and schema version. */
export async function backupTo(db: Db, target: string): Promise<{ bytes: number; schemaVersion: number }> {
  // Written under another name and renamed at the end, so a half-written backup never looks like a finished one.
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  // Created owner-only before SQLite writes a page into it: a backup holds the same personal data as the database.
  writeFileSync(partial, '', { mode: 0o600, flag: 'wx' });
  try {
    // All pages in one step, i.e. under one read snapshot: in steps, every write the server commits in between
    // would restart the copy, and under steady ingest it might never finish. WAL readers do not block the writer.
    await db.backup(partial, { progress: () => ALL_PAGES });
  } catch (error) {
    rmSync(partial, { force: true });
    throw new BackupError(`backup failed: ${(error as Error).message}`);
  }
  let version: number;
  const copy = new Database(partial);
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the backup does not pass quick_check: ${String(check)}`);
    version = schemaVersion(copy);
    copy.close();
  } catch (error) {
    copy.close();
    rmSync(partial, { force: true });
    throw error;
  }
  renameSync(partial, target);
  return { bytes: statSync(target).size, schemaVersion: version };
}
