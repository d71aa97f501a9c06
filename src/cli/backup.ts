// `chatlio-relay backup <file>`: SQLite's online backup of the live database, safe while the server runs.
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DB_FILE, schemaVersion } from '../store/db.js';
import { CliError, parseCommandArgs, readConfig, usageError, type Command } from './command.js';

const ALL_PAGES = 0x7fffffff;

export const backupCommand: Command = {
  name: 'backup',
  summary: "copy the live database to a file with SQLite's online backup (safe while the server runs)",
  help: `Usage: chatlio-relay backup <file> [--force]

Copies DATA_DIR's database to <file> with SQLite's online backup API: a consistent snapshot
taken page by page while the server keeps receiving webhooks. The copy is checked
(PRAGMA quick_check) and left as one self-contained file (rollback journal mode, no -wal).

  --force   overwrite <file> if it exists

Restore: stop the server, copy the file to DATA_DIR/chatlio-relay.sqlite (removing any
chatlio-relay.sqlite-wal and -shm there), start the server.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(backupCommand, args, { force: { type: 'boolean' } }, { max: 1 });
    if (!parsed) return 0;
    const [file] = parsed.positionals;
    if (!file) throw usageError('missing <file>; see --help');
    const config = readConfig(env);
    const source = join(config.dataDir, DB_FILE);
    const target = resolve(file);
    if (!existsSync(source)) throw new CliError(`no database at ${source}; is DATA_DIR right?`);
    if (target === resolve(source)) throw usageError('the backup file cannot be the live database');
    if (existsSync(target) && !parsed.values.force) throw new CliError(`${file} exists; pass --force to overwrite it`);

    // Written under another name and renamed at the end, so a half-written backup never looks like a finished one.
    const partial = `${target}.partial`;
    rmSync(partial, { force: true });
    const live = new Database(source, { fileMustExist: true, timeout: config.dbBusyTimeoutMs });
    try {
      // All pages in one step, i.e. under one read snapshot: in steps, every write the server commits in between
      // would restart the copy, and under steady ingest it might never finish. WAL readers do not block the writer.
      await live.backup(partial, { progress: () => ALL_PAGES });
    } catch (error) {
      rmSync(partial, { force: true });
      throw new CliError(`backup failed: ${(error as Error).message}`);
    } finally {
      live.close();
    }
    let version: number;
    const copy = new Database(partial);
    try {
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CliError(`the backup does not pass quick_check: ${String(check)}`);
      version = schemaVersion(copy);
      copy.close();
    } catch (error) {
      copy.close();
      rmSync(partial, { force: true });
      throw error;
    }
    renameSync(partial, target);
    process.stdout.write(`backup written to ${file} (${statSync(target).size} bytes, schema version ${version})\n`);
  },
};
