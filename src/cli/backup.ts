// `chatlio-relay backup <file>`: SQLite's online backup of the live database, safe while the server runs.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStorage, sqlitePath } from '../store/index.js';
import { BackupError } from '../store/sqlite/backup.js';
import type { SqliteStorage } from '../store/sqlite/index.js';
import { createLogger } from '../logger.js';
import { CliError, parseCommandArgs, readConfig, usageError, type Command } from './command.js';

export const backupCommand: Command = {
  name: 'backup',
  summary: "copy the live database to a file with SQLite's online backup (safe while the server runs)",
  help: `Usage: chatlio-relay backup <file> [--force]

Copies DATA_DIR's database to <file> with SQLite's online backup API: a consistent snapshot
taken page by page while the server keeps receiving webhooks. The copy is checked
(PRAGMA quick_check) and left as one self-contained file (rollback journal mode, no -wal).

  --force   overwrite <file> if it exists

Restore: stop the server, run \`chatlio-relay restore <file>\` (it moves the old database and any
stale -wal/-shm aside), start the server.

With DATABASE_URL (PostgreSQL) there is no SQLite file: back up with pg_dump (docs/postgres.md).
`,
  async run(args, env) {
    const parsed = parseCommandArgs(backupCommand, args, { force: { type: 'boolean' } }, { max: 1 });
    if (!parsed) return 0;
    // Read before the rest of the configuration: the answer is the same whatever else is set.
    if (env.DATABASE_URL) {
      throw usageError("backup is SQLite's online backup; with DATABASE_URL set, back up PostgreSQL with pg_dump (see docs/postgres.md)");
    }
    const [file] = parsed.positionals;
    if (!file) throw usageError('missing <file>; see --help');
    const config = readConfig(env);
    const source = sqlitePath(config);
    const target = resolve(file);
    if (!existsSync(source)) throw new CliError(`no database at ${source}; is DATA_DIR right?`);
    if (target === resolve(source)) throw usageError('the backup file cannot be the live database');
    if (existsSync(target) && !parsed.values.force) throw new CliError(`${file} exists; pass --force to overwrite it`);

    const storage = await openStorage(config, createLogger({ level: 'silent', pretty: false, maskPii: true }));
    let written: { bytes: number; schemaVersion: number };
    try {
      written = await (storage as SqliteStorage).backup(target);
    } catch (error) {
      if (error instanceof BackupError) throw new CliError(error.message);
      throw error;
    } finally {
      await storage.close();
    }
    process.stdout.write(`backup written to ${file} (${written.bytes} bytes, schema version ${written.schemaVersion})\n`);
  },
};
