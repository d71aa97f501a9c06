// Who has the database open: every process using it holds a shared lock on a small lock file beside it, and
// `restore` takes the exclusive lock, so it never swaps the file under a running server (or a running backup).
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { ownerOnly } from './modes.js';

export type Lock = { release(): void };

export const lockPath = (path: string) => `${path}.lock`;

// The lock file is an empty SQLite database: its locks are the operating system's, released even on kill -9.
function openLockFile(path: string, timeoutMs: number): Database.Database {
  const file = lockPath(path);
  try {
    writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  ownerOnly(file);
  return new Database(file, { timeout: timeoutMs });
}

/** A read transaction kept open on the lock file: many holders at once, none while `restore` holds it. */
export function holdSharedLock(path: string, timeoutMs: number): Lock {
  const connection = openLockFile(path, timeoutMs);
  try {
    connection.exec('BEGIN');
    connection.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    connection.close();
    throw error;
  }
  return { release: () => connection.close() };
}

/** The exclusive lock, or undefined at once when any process has the database open. */
export function tryExclusiveLock(path: string): Lock | undefined {
  const connection = openLockFile(path, 0);
  try {
    connection.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    connection.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw error;
  }
  return { release: () => connection.close() };
}
