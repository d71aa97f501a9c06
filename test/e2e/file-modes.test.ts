// Issue 12 defect 4: the data files hold visitors' personal data but were world-readable (database 644, folder 755).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, WEBHOOK_TOKEN, readFixture } from '../helpers/app.js';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';
import { runCli } from '../helpers/cli.js';

// The server and the CLI run with umask 000, the worst case: anything not created owner-only on purpose shows up.
const UMASK_000 = { NODE_OPTIONS: '--import=data:text/javascript,process.umask(0)' };
const DIST = join(import.meta.dirname, '..', '..', 'dist');

let server: ServerProcess | undefined;
afterEach(async () => {
  if (server) await stopServer(server);
  server = undefined;
});

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('defect 4: data files are owner-only whatever the umask', () => {
  it('creates DATA_DIR 0700 and the database, -wal, -shm and a backup 0600 under umask 000', async () => {
    const dataDir = join(tempDir(), 'data');
    server = await startServer({ ...UMASK_000, DATA_DIR: dataDir });
    const response = await fetch(`${server.url}/webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(readFixture('valid/feedback/documented.json')),
    });
    expect(response.status).toBe(200);
    const backup = join(tempDir(), 'backup.sqlite');
    const backedUp = await runCli(['backup', backup], { ...UMASK_000, DATA_DIR: dataDir });
    expect(backedUp.code, backedUp.stderr).toBe(0);

    expect(modeOf(dataDir)).toBe('700');
    const files = readdirSync(dataDir);
    expect(files).toEqual(expect.arrayContaining(['chatlio-relay.sqlite', 'chatlio-relay.sqlite-wal', 'chatlio-relay.sqlite-shm']));
    for (const file of files) expect([file, modeOf(join(dataDir, file))]).toEqual([file, '600']);
    expect(modeOf(backup)).toBe('600');
  });

  it('makes a database an older version left 0644 owner-only at the next start', async () => {
    const dataDir = join(tempDir(), 'data');
    server = await startServer({ DATA_DIR: dataDir });
    await stopServer(server);
    const database = join(dataDir, 'chatlio-relay.sqlite');
    chmodSync(database, 0o644);
    server = await startServer({ DATA_DIR: dataDir });
    expect(modeOf(database)).toBe('600');
  });

  it('keeps generated token files 0600 under umask 000', () => {
    const dataDir = join(tempDir(), 'data');
    const script = `process.umask(0); const { resolveTokens } = await import(${JSON.stringify(join(DIST, 'tokens.js'))}); resolveTokens(${JSON.stringify(dataDir)}, {});`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script]);
    expect(modeOf(dataDir)).toBe('700');
    expect(modeOf(join(dataDir, 'webhook-token'))).toBe('600');
    expect(modeOf(join(dataDir, 'api-token'))).toBe('600');
  });

  it('warns once at start when DATA_DIR is readable by others', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    execFileSync('chmod', ['755', dataDir]);
    server = await startServer({ DATA_DIR: dataDir });
    await stopServer(server);
    const warnings = server.output().split('\n').filter((line) => line.includes('is readable by other users'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`chmod 700 it`);
  });
});
