// `chatlio-relay restore <backup>`: puts a backup in place of DATA_DIR's database, moving the old file and any stale
// -wal/-shm aside (a -wal left beside a restored file would be replayed into it), while no process has it open.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { sqlitePath } from '../store/index.js';
import { readDatabaseId } from '../store/sqlite/db.js';
import { tryExclusiveLock } from '../store/sqlite/lock.js';
import { ensureOwnerOnlyDir } from '../store/sqlite/modes.js';
import { markerPath, writeMarker } from '../store/sqlite/startup.js';
import { CliError, parseCommandArgs, readConfig, usageError, type Command } from './command.js';

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'put a backup in place of the database (the server must be stopped); the old files are moved aside',
  help: `Usage: chatlio-relay restore <backup>

Replaces DATA_DIR's database with <backup> (a file written by \`chatlio-relay backup\`):
  1. checks the backup with PRAGMA integrity_check;
  2. refuses while any chatlio-relay process (the server, a backup) has the database open;
  3. moves chatlio-relay.sqlite and its -wal, -shm and .id files into DATA_DIR/before-restore-<time>/
     (a stale -wal left beside the restored file would be replayed into it and corrupt it);
  4. copies the backup in place, mode 0600, and records its identity in chatlio-relay.sqlite.id.
Start the server afterwards. Nothing is deleted: remove the before-restore folder once satisfied.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(restoreCommand, args, {}, { max: 1 });
    if (!parsed) return 0;
    const [file] = parsed.positionals;
    if (!file) throw usageError('missing <backup>; see --help');
    const backup = resolve(file);
    const path = sqlitePath(readConfig(env));
    if (backup === resolve(path)) throw usageError('the backup cannot be the live database itself');
    if (!existsSync(backup)) throw new CliError(`no file at ${backup}`);
    if (existsSync(`${backup}-wal`)) throw new CliError(`${backup} has a -wal beside it, so it is not a finished backup: make one with \`chatlio-relay backup\``);
    const identity = checkBackup(backup);

    ensureOwnerOnlyDir(dirname(path));
    const lock = tryExclusiveLock(path);
    if (!lock) throw new CliError(`a chatlio-relay process (the server, or a backup) has ${path} open: stop it, then run restore again`);
    try {
      const aside = join(dirname(path), `before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const moved = [path, `${path}-wal`, `${path}-shm`, markerPath(path)].filter((old) => existsSync(old));
      if (moved.length > 0) {
        mkdirSync(aside, { mode: 0o700 });
        for (const old of moved) renameSync(old, join(aside, basename(old)));
      }
      // Copied under another name and renamed when complete and on disk: a crash never leaves half a database in place.
      const partial = `${path}.partial`;
      await pipeline(createReadStream(backup), createWriteStream(partial, { mode: 0o600, flags: 'w' }));
      const fd = openSync(partial, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(partial, path);
      // A backup from before database identities gets one at the next start, which writes the .id file itself.
      if (identity) writeMarker(path, identity);
      const movedText = moved.length > 0 ? `; the previous files are in ${aside}` : '';
      process.stdout.write(`restored ${file} to ${path} (database ${identity ?? 'without an identity yet'})${movedText}\n`);
    } finally {
      lock.release();
    }
  },
};

/** The backup's identity, after a full integrity check; a CliError when it is no sound database. */
function checkBackup(backup: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(backup, { readonly: true, fileMustExist: true });
    const problems = (db.pragma('integrity_check(5)') as Array<Record<string, unknown>>).map((row) => String(Object.values(row)[0]));
    if (problems.join() !== 'ok') throw new CliError(`${backup} fails PRAGMA integrity_check (${problems.join('; ')}): it cannot be restored`);
    return readDatabaseId(db);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${backup} cannot be read as a SQLite database (${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message})`);
  } finally {
    db?.close();
  }
}
