// Start-up checks of the SQLite file before anything writes to it: it is the database that was here (its identity
// matches the copy DATA_DIR keeps beside it) and it is sound (PRAGMA quick_check, time-bounded). A fresh database is
// made only where there was none at all: an empty file, a stray -wal or a foreign database stops the start instead.
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { readDatabaseId } from './db.js';

/** Start refused: the message is one line naming the file and what to do. */
export class DatabaseRefusedError extends Error {
  override name = 'DatabaseRefusedError';
}

export const markerPath = (path: string) => `${path}.id`;

const RESTORE = 'restore a backup with `chatlio-relay restore <backup>`';

function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function readMarker(path: string): string | undefined {
  try {
    return readFileSync(markerPath(path), 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Keeps the database's identity beside it (written whole, then renamed), owner-only. */
export function writeMarker(path: string, databaseId: string): void {
  const partial = `${markerPath(path)}.partial`;
  writeFileSync(partial, `${databaseId}\n`, { mode: 0o600 });
  renameSync(partial, markerPath(path));
}

export type QuickCheck = { result: 'ok' } | { result: 'damaged'; detail: string } | { result: 'unfinished' };

// Runs in a worker thread: better-sqlite3 is synchronous, and only another thread lets start-up stop waiting.
const QUICK_CHECK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  const rows = db.pragma('quick_check(3)', { simple: false }).map((row) => String(Object.values(row)[0]));
  parentPort.postMessage({ rows });
} catch (error) {
  parentPort.postMessage({ rows: [String(error.code || '') + ' ' + error.message] });
} finally {
  if (db) db.close();
}`;

/**
 * PRAGMA quick_check on a read-only connection, waiting at most `timeoutMs`. Past that, start-up goes on and the check
 * finishes in the background; `late` receives its result.
 */
export function quickCheck(path: string, timeoutMs: number, late: (check: QuickCheck) => void = () => undefined): Promise<QuickCheck> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(QUICK_CHECK_WORKER, { eval: true, workerData: { path, driver } });
  return new Promise((resolve) => {
    let waiting = true;
    const timer = setTimeout(() => {
      waiting = false;
      worker.unref();
      resolve({ result: 'unfinished' });
    }, timeoutMs);
    const settle = (check: QuickCheck) => {
      if (!waiting) return late(check);
      waiting = false;
      clearTimeout(timer);
      resolve(check);
    };
    worker.once('message', ({ rows }: { rows: string[] }) =>
      settle(rows.length === 1 && rows[0] === 'ok' ? { result: 'ok' } : { result: 'damaged', detail: rows.join('; ') }),
    );
    worker.once('error', (error) => settle({ result: 'damaged', detail: error.message }));
  });
}

function readHead(file: string, bytes: number): Buffer {
  const head = Buffer.alloc(bytes);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, bytes, 0);
  } finally {
    closeSync(fd);
  }
  return head;
}

/**
 * Why the -wal cannot belong to the file, from their headers alone: a database in rollback-journal mode (as a backup
 * is) has no -wal of its own, and a -wal records the page size of its database. Undefined when they may match.
 */
function strayWal(path: string): string | undefined {
  const database = readHead(path, 100);
  const wal = readHead(`${path}-wal`, 32);
  if (database.length < 100 || database.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') return undefined;
  if (database[18] === 1) return 'the database is in rollback-journal mode, as a backup is, so the -wal is left from another file';
  const pageSize = (size: number) => (size === 1 ? 65536 : size);
  const databasePageSize = pageSize(database.readUInt16BE(16));
  const walPageSize = wal.readUInt32BE(8);
  if (wal.readUInt32BE(0) >>> 1 === 0x377f0682 >>> 1 && walPageSize !== databasePageSize) {
    return `the -wal is of pages of ${walPageSize} bytes, the database of ${databasePageSize}`;
  }
  return undefined;
}

/** The identity of the database at `path`, read without writing to it or to its -wal. */
function inspectIdentity(path: string): string | undefined {
  // Read-only: a read-only connection never checkpoints, so a -wal that may not belong to this file is not
  // written into it, and closing leaves both as they were for whoever investigates.
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return readDatabaseId(db);
  } finally {
    db.close();
  }
}

export type Verdict = { fresh: boolean; check: QuickCheck };

/** Throws DatabaseRefusedError when the file at `path` must not be opened for writing; says whether it is new. */
export async function checkBeforeOpen(path: string, options: { quickCheckTimeoutMs: number; late?: (check: QuickCheck) => void }): Promise<Verdict> {
  const marker = readMarker(path);
  const wal = `${path}-wal`;
  const database = statOf(path);
  const walFile = statOf(wal);
  if (!database) {
    if (marker) throw new DatabaseRefusedError(`${path} is missing, but ${markerPath(path)} says database ${marker} was here: ${RESTORE}, or move ${markerPath(path)} aside to start with an empty database`);
    if (walFile) throw new DatabaseRefusedError(`${wal} exists without ${path}: move it aside (with any -shm) to start with an empty database, or ${RESTORE}`);
    return { fresh: true, check: { result: 'ok' } };
  }
  if (database.size === 0 && !(walFile && walFile.size > 0)) {
    throw new DatabaseRefusedError(`${path} is empty (0 bytes)${marker ? `, but database ${marker} was here` : ''}: ${RESTORE}, or delete the file to start with an empty database`);
  }
  const stray = walFile && walFile.size >= 32 && database.size >= 100 ? strayWal(path) : undefined;
  if (stray) {
    throw new DatabaseRefusedError(`${wal} does not belong to ${path} (${stray}): move ${wal} and ${path}-shm aside and start again, or ${RESTORE}`);
  }
  let identity: string | undefined;
  try {
    identity = inspectIdentity(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    throw new DatabaseRefusedError(`${path} cannot be read as a chatlio-relay database (${code}: ${(error as Error).message}): ${RESTORE}`);
  }
  if (marker && identity !== marker) {
    const found = identity ? `database ${identity}` : 'a database without an identity';
    const stray = walFile ? ` (a -wal copied from elsewhere? move ${wal} and ${path}-shm aside and start again)` : '';
    throw new DatabaseRefusedError(`${path} holds ${found}, not database ${marker} that was here${stray}: ${RESTORE}`);
  }
  const check = await quickCheck(path, options.quickCheckTimeoutMs, options.late);
  if (check.result === 'damaged') {
    throw new DatabaseRefusedError(`${path} fails PRAGMA quick_check (${check.detail.replace(/\s+/g, ' ').slice(0, 200)}): ${RESTORE}; \`chatlio-relay check-db\` lists the damage`);
  }
  return { fresh: false, check };
}
