// Issue 12 defect 12: start-up ran on an empty or damaged database without a word (a zero-byte file started empty,
// a -wal from another database was replayed into the file, a backup restored beside a stale -wal started and
// corrupted). Now the start checks the file's identity and health first and refuses with one line naming the file.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, openSync, closeSync, readdirSync, statSync, truncateSync, writeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { freePort, startServer, stopServer, type ServerProcess } from '../helpers/server.js';
import { oneLineError, runCli } from '../helpers/cli.js';

const DB = 'chatlio-relay.sqlite';
let server: ServerProcess | undefined;
afterEach(async () => {
  if (server) await stopServer(server, 'SIGKILL');
  server = undefined;
});

async function post(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const body = JSON.parse(readFixture('valid/feedback/documented.json').toString()) as Record<string, unknown>;
    const response = await fetch(`${url}/webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A different body each time, so none is a duplicate; padded so the file spans many pages.
      body: JSON.stringify({ ...body, comment: `${i} ${'x'.repeat(2000)}` }),
    });
    expect(response.status).toBe(200);
  }
}

/** A data directory whose database holds `n` events, the server stopped cleanly. */
async function dataDirWith(n: number): Promise<string> {
  const started = await startServer();
  await post(started.url, n);
  expect(await stopServer(started)).toBe(0);
  return started.dataDir;
}

const countEvents = (dataDir: string) => {
  const db = new Database(join(dataDir, DB), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

/** `serve` that must refuse to start: its exit code and its one line on stderr. */
async function refusedStart(dataDir: string): Promise<string> {
  const result = await runCli(['serve'], { DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1', WEBHOOK_TOKEN, API_TOKEN, LOG_LEVEL: 'silent' }, 20_000);
  expect(result.code, result.stderr).toBe(1);
  return oneLineError(result);
}

describe('defect 12: start-up checks the database before serving', () => {
  it('refuses a zero-byte database where history was expected, naming the file and what to do', async () => {
    const dataDir = await dataDirWith(3);
    truncateSync(join(dataDir, DB), 0);
    const line = await refusedStart(dataDir);
    expect(line).toContain(`${join(dataDir, DB)} is empty (0 bytes), but database`);
    expect(line).toContain('chatlio-relay restore');
  });

  it('refuses a missing database file where the identity file says one was', async () => {
    const dataDir = await dataDirWith(1);
    rmSync(join(dataDir, DB));
    expect(await refusedStart(dataDir)).toContain(`${join(dataDir, DB)} is missing, but`);
  });

  it.each([
    ['another chatlio-relay database', 4096],
    ['a database of another page size', 8192],
  ])('refuses a -wal from %s placed beside the file, and the stored events are intact once it is moved away', async (_what, pageSize) => {
    const dataDir = await dataDirWith(30);
    const other = join(tempDir(), 'other.sqlite');
    const db = new Database(other);
    db.pragma(`page_size = ${pageSize}`);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('database_id', 'zzzzzzzz')");
    db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, raw BLOB)');
    for (let i = 0; i < 50; i++) db.prepare('INSERT INTO events (raw) VALUES (?)').run(randomBytes(1000));
    // Copied while the other database is open, as a relay killed with kill -9 leaves it.
    copyFileSync(`${other}-wal`, join(dataDir, `${DB}-wal`));
    db.close();

    const line = await refusedStart(dataDir);
    expect(line).toContain(join(dataDir, DB));
    expect(line).toMatch(/not database|does not belong/);
    rmSync(join(dataDir, `${DB}-wal`));
    rmSync(join(dataDir, `${DB}-shm`), { force: true });
    expect(countEvents(dataDir)).toBe(30);
    server = await startServer({ DATA_DIR: dataDir });
  });

  it('refuses a backup copied over the file beside a stale -wal; `restore` moves them aside and the backup starts', async () => {
    const started = await startServer();
    const dataDir = started.dataDir;
    await post(started.url, 20);
    const backup = join(tempDir(), 'backup.sqlite');
    const backedUp = await runCli(['backup', backup], { DATA_DIR: dataDir });
    expect(backedUp.code, backedUp.stderr).toBe(0);
    await post(started.url, 10);
    // kill -9: the last writes stay in the -wal.
    expect(await stopServer(started, 'SIGKILL')).toBe('SIGKILL');
    expect(statSync(join(dataDir, `${DB}-wal`)).size).toBeGreaterThan(0);

    copyFileSync(backup, join(dataDir, DB));
    expect(await refusedStart(dataDir)).toContain(`${join(dataDir, DB)}-wal does not belong to ${join(dataDir, DB)}`);

    const restored = await runCli(['restore', backup], { DATA_DIR: dataDir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/^restored .* the previous files are in .*before-restore-/);
    expect(existsSync(join(dataDir, `${DB}-wal`))).toBe(false);
    const aside = readdirSync(dataDir).find((name) => name.startsWith('before-restore-'))!;
    expect(readdirSync(join(dataDir, aside)).sort()).toEqual([DB, `${DB}-shm`, `${DB}-wal`, `${DB}.id`]);
    expect((statSync(join(dataDir, DB)).mode & 0o777).toString(8)).toBe('600');

    server = await startServer({ DATA_DIR: dataDir });
    expect(countEvents(dataDir)).toBe(20);
    const checked = await runCli(['check-db'], { DATA_DIR: dataDir });
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/^ok: .* passes PRAGMA integrity_check/);
  });

  it('refuses to restore while the server has the database open', async () => {
    server = await startServer();
    const backup = join(tempDir(), 'backup.sqlite');
    expect((await runCli(['backup', backup], { DATA_DIR: server.dataDir })).code).toBe(0);
    const result = await runCli(['restore', backup], { DATA_DIR: server.dataDir });
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toContain('has');
    expect(oneLineError(result)).toContain('open: stop it');
  });

  it('refuses a database that fails PRAGMA quick_check, and check-db lists the damage', async () => {
    const dataDir = await dataDirWith(200);
    const path = join(dataDir, DB);
    const pages = statSync(path).size / 4096;
    const fd = openSync(path, 'r+');
    // Random bytes over a few pages in the middle of the file (the header and schema pages stay readable).
    for (const page of [Math.floor(pages / 2), Math.floor(pages / 2) + 3, pages - 5]) writeSync(fd, randomBytes(4096), 0, 4096, page * 4096);
    closeSync(fd);
    const line = await refusedStart(dataDir);
    expect(line).toContain(`${path} fails PRAGMA quick_check`);
    const checked = await runCli(['check-db'], { DATA_DIR: dataDir });
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(`${path} is damaged (PRAGMA integrity_check`);
  });
});
