// Issue 12 defect 19: /readyz said ready on a full disk while webhooks got 503, because its probe write still fit.
// Readiness now also reflects the last real write: not ready while it failed and no write has succeeded since.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, postWebhook, readFixture, tempDir, WEBHOOK_TOKEN, type TestApp } from './helpers/app.js';
import { sqliteOf } from './helpers/storage.js';
import { startServer, stopServer, waitFor, type ServerProcess } from './helpers/server.js';

let t: TestApp | undefined;
let server: ServerProcess | undefined;
const unmount: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  if (server) await stopServer(server, 'SIGKILL');
  server = undefined;
  for (const dir of unmount.splice(0)) execFileSync('umount', ['-l', dir]);
});

const large = () => readFixture('valid/transcript/large-500-messages.json');

describe('defect 19: /readyz reflects the last real write', () => {
  it('is not ready while the disk is full (SQLite max_page_count) though its own probe fits, and ready again once there is room', async () => {
    t = await createTestApp();
    const { db } = sqliteOf(t.ctx.storage);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    expect((await postWebhook(t.app, 'transcript', large())).statusCode).toBe(503);

    const notReady = await t.app.inject({ url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json<{ detail: string }>().detail).toMatch(/the last write failed \(SQLITE_FULL/);

    db.pragma('max_page_count = 1073741823');
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await postWebhook(t.app, 'transcript', large())).statusCode).toBe(200);
  });

  it('becomes ready again after a later real write succeeds', async () => {
    t = await createTestApp();
    const { db } = sqliteOf(t.ctx.storage);
    await t.app.inject({ url: '/readyz' });
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    expect((await postWebhook(t.app, 'transcript', large())).statusCode).toBe(503);
    db.pragma('max_page_count = 1073741823');
    expect((await postWebhook(t.app, 'transcript', large())).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

// A real full file system, as the trial used: root only (mount), so elsewhere the test says why it is skipped.
const tmpfsProblem = (() => {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe]);
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();
if (tmpfsProblem) console.warn(`SKIPPED defect 19 on a real full tmpfs: ${tmpfsProblem} (the max_page_count tests above still run)`);

describe.skipIf(tmpfsProblem !== undefined)('defect 19 on a real full file system (tmpfs, root only)', () => {
  it('the server is not ready while its tmpfs is full and ready again once space is freed, without a restart', async () => {
    const mount = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mount]);
    unmount.push(mount);
    const dataDir = join(mount, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    server = await startServer({ DATA_DIR: dataDir });
    const feedback = JSON.parse(readFixture('valid/feedback/documented.json').toString()) as Record<string, unknown>;
    let n = 0;
    // A different body each time (the same bytes would be a duplicate, which writes nothing).
    const post = () =>
      fetch(`${server!.url}/webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...feedback, comment: `${++n} ${'words '.repeat(3000)}` }),
      });
    // Space we can give back later.
    writeFileSync(join(mount, 'ballast'), Buffer.alloc(1024 * 1024));
    let status = 200;
    for (let i = 0; i < 1000 && status === 200; i++) status = (await post()).status;
    expect(status).toBe(503);

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { detail: string }).detail).toMatch(/the last write failed/);

    rmSync(join(mount, 'ballast'));
    await waitFor(async () => ((await fetch(`${server!.url}/readyz`)).ok ? true : undefined), 10_000, 'ready after freeing space');
    expect((await post()).status).toBe(200);
  });
});
