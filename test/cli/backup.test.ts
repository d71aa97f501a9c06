import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { oneLineError, runCli } from '../helpers/cli.js';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let scratch: string;
beforeAll(async () => {
  server = await startServer();
  scratch = tempDir('chatlio-relay-backup-');
});
afterAll(async () => {
  if (server) await stopServer(server);
  rmSync(scratch, { recursive: true, force: true });
});

const large = JSON.parse(readFixture('valid/transcript/large-500-messages.json').toString()) as Record<string, unknown>;

async function post(n: number): Promise<void> {
  const response = await fetch(`${server.url}/webhooks/chatlio/transcript?token=${WEBHOOK_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...large, conversationUUID: `backup-${n}` }),
  });
  if (response.status !== 200) throw new Error(`ingest answered ${response.status}`);
}

function countEvents(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('chatlio-relay backup', () => {
  it('takes a consistent copy of the live database while the real server keeps ingesting', async () => {
    // A few megabytes first, so the copy takes long enough for writes to land while it runs.
    for (let n = 0; n < 60; n++) await post(n);
    let ingesting = true;
    let posted = 60;
    const writer = (async () => {
      while (ingesting) await post(posted++);
    })();
    const postedBefore = posted;
    const target = join(scratch, 'while-ingesting.sqlite');
    const result = await runCli(['backup', target], { DATA_DIR: server.dataDir, WEBHOOK_TOKEN });
    const postedDuring = posted - postedBefore;
    ingesting = false;
    await writer;

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^backup written to .*while-ingesting\.sqlite \(\d+ bytes, schema version \d+\)\n$/);
    expect(postedDuring).toBeGreaterThan(0);
    const copy = new Database(target, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const seqs = copy.prepare('SELECT seq FROM events ORDER BY seq').pluck().all() as number[];
      // A snapshot: a gapless prefix of what the server stored, at least everything stored before the backup started.
      expect(seqs.length).toBeGreaterThanOrEqual(postedBefore);
      expect(seqs.length).toBeLessThanOrEqual(posted);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      copy.close();
    }
    expect(countEvents(join(server.dataDir, 'chatlio-relay.sqlite'))).toBe(posted);
    expect(readdirSync(scratch).filter((file) => file.startsWith('while-ingesting'))).toEqual(['while-ingesting.sqlite']);
  });

  it('refuses to overwrite an existing file without --force, and overwrites it with --force', async () => {
    const target = join(scratch, 'existing.sqlite');
    writeFileSync(target, 'not a database');
    const refused = await runCli(['backup', target], { DATA_DIR: server.dataDir, WEBHOOK_TOKEN });
    expect(refused.code).toBe(1);
    expect(oneLineError(refused)).toBe(`chatlio-relay backup: ${target} exists; pass --force to overwrite it`);
    const forced = await runCli(['backup', target, '--force'], { DATA_DIR: server.dataDir, WEBHOOK_TOKEN });
    expect(forced.code, forced.stderr).toBe(0);
    expect(countEvents(target)).toBeGreaterThan(0);
  });

  it('exits 1 with one line when DATA_DIR holds no database, creating nothing', async () => {
    const empty = tempDir('chatlio-relay-backup-empty-');
    try {
      const result = await runCli(['backup', join(scratch, 'nothing.sqlite')], { DATA_DIR: empty });
      expect(result.code).toBe(1);
      expect(oneLineError(result)).toBe(`chatlio-relay backup: no database at ${join(empty, 'chatlio-relay.sqlite')}; is DATA_DIR right?`);
      expect(readdirSync(empty)).toEqual([]);
      expect(existsSync(join(scratch, 'nothing.sqlite'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('exits 2 with one line when no file is given', async () => {
    const result = await runCli(['backup'], { DATA_DIR: server.dataDir });
    expect(result.code).toBe(2);
    expect(oneLineError(result)).toBe('chatlio-relay backup: missing <file>; see --help');
  });
});
