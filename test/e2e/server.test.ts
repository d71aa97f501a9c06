import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, manifest, readFixture } from '../helpers/app.js';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  if (server) await stopServer(server);
});

describe('the real server process', () => {
  it('answers every fixture over real HTTP as the manifest says, keeping accepted bodies byte for byte', async () => {
    for (const entry of manifest()) {
      const body = readFixture(entry.file);
      const response = await fetch(`${server.url}/webhooks/chatlio/${entry.type}?token=${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(body),
      });
      expect(response.status, entry.file).toBe(entry.expect);
      if (entry.expect !== 200) continue;
      const { id } = (await response.json()) as { id: string };
      const raw = await fetch(`${server.url}/api/events/${id}/raw`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(Buffer.from(await raw.arrayBuffer()).equals(body), entry.file).toBe(true);
    }
  });

  it('stops within 10 s on SIGTERM with exit code 0', async () => {
    const started = Date.now();
    const code = await stopServer(server, 'SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
