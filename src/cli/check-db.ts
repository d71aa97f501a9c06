// `chatlio-relay check-db`: the full PRAGMA integrity_check of DATA_DIR's database, read-only (safe while the server runs).
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { sqlitePath } from '../store/index.js';
import { readDatabaseId } from '../store/sqlite/db.js';
import { markerPath, readMarker } from '../store/sqlite/startup.js';
import { CliError, parseCommandArgs, readConfig, type Command } from './command.js';

export const checkDbCommand: Command = {
  name: 'check-db',
  summary: 'check every page of the SQLite database (PRAGMA integrity_check), read-only',
  help: `Usage: chatlio-relay check-db

Runs SQLite's full PRAGMA integrity_check on DATA_DIR's database (every page, every index) on a
read-only connection, so it is safe while the server runs (it only slows it down a little), and
checks that the database is the one DATA_DIR's chatlio-relay.sqlite.id names. The server's start
runs the quicker PRAGMA quick_check. Exit code 0 when both hold, 1 with the problems otherwise.
`,
  async run(args, env) {
    if (!parseCommandArgs(checkDbCommand, args, {}, { max: 0 })) return 0;
    const path = sqlitePath(readConfig(env));
    if (!existsSync(path)) throw new CliError(`no database at ${path}; is DATA_DIR right?`);
    const started = Date.now();
    let problems: string[];
    let identity: string | undefined;
    try {
      // Read-only: it never checkpoints, so a -wal that does not belong to the file stays where it is for inspection.
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        identity = readDatabaseId(db);
        problems = (db.pragma('integrity_check(20)') as Array<Record<string, unknown>>).map((row) => String(Object.values(row)[0]));
      } catch (error) {
        // A page so damaged that the check itself cannot go on is a finding, not a failure of the command.
        problems = [`${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}`];
      } finally {
        db.close();
      }
    } catch (error) {
      throw new CliError(`${path} cannot be read as a SQLite database (${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}); restore a backup with \`chatlio-relay restore <backup>\``);
    }
    const marker = readMarker(path);
    if (problems.length === 1 && problems[0] === 'ok') problems = [];
    if (marker && marker !== identity) problems.push(`${markerPath(path)} names database ${marker}, the file is ${identity ?? 'without an identity'}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (problems.length > 0) {
      process.stderr.write(`${path} is damaged (PRAGMA integrity_check, ${seconds} s):\n${problems.map((line) => `  ${line}\n`).join('')}`);
      process.stderr.write('restore a backup with `chatlio-relay restore <backup>` (stop the server first)\n');
      return 1;
    }
    process.stdout.write(`ok: ${path} (database ${identity ?? 'without an identity yet'}) passes PRAGMA integrity_check (${seconds} s)\n`);
    return 0;
  },
};
