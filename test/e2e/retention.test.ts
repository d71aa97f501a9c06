import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { apiHeaders, createTestApp, tempDir } from '../helpers/app.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';
import { notification, store, visitor } from '../api/seed.js';

const DAY = 86_400_000;
let server: ServerProcess | undefined;
const dataDir = tempDir('chatlio-relay-retention-');
afterAll(async () => {
  if (server) await stopServer(server);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('RETENTION_DAYS in the real server', () => {
  it('deletes events older than the window soon after start and keeps the rest', async () => {
    const seeding = await createTestApp({ DATA_DIR: dataDir });
    for (let i = 0; i < 30; i++) await store(seeding.ctx, 'conversation-started', notification(`old-${i}`, visitor(`v${i}`), 'old news'), Date.now() - 10 * DAY);
    const fresh = await store(seeding.ctx, 'conversation-started', notification('new', visitor('vn'), 'fresh'));
    await seeding.close();

    server = await startServer({ DATA_DIR: dataDir, RETENTION_DAYS: '7' });
    const ids = await waitFor(async () => {
      const response = await fetch(`${server!.url}/api/events`, { headers: apiHeaders });
      const body = (await response.json()) as { data: Array<{ id: string }> };
      return body.data.length === 1 ? body.data.map((event) => event.id) : undefined;
    }, 10_000, 'expired events to go');
    expect(ids).toEqual([fresh.id]);
    const search = await fetch(`${server.url}/api/events?q=news`, { headers: apiHeaders });
    expect(((await search.json()) as { data: unknown[] }).data).toEqual([]);
  });
});
