// Defect 15 (issue 12): reading large events took unbounded memory (75 × 5 MiB: a list of 100 peaked at 2.39 GB).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { newEvent } from '../helpers/events.js';
import { testStorage } from '../helpers/storage.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';

const EVENTS = 40;
const BODY_BYTES = 4 * 1024 * 1024;
// The server idles at about 80 MB; a list page holds up to 8 MiB of bodies and an export 4 MiB, each a few times over
// while it is turned into JSON text. The old code held every body of the page at once, several times: over 1 GB here.
// PostgreSQL sends bytea as hex text, so each body crosses the client as a string twice its size before it is a Buffer:
// the same paging peaked at 314 MB there (230 MB on SQLite). Both are far from the 1,063 MB the old code reached.
const PEAK_RSS_BOUND_MB = process.env.TEST_BACKEND === 'postgres' ? 400 : 300;

const auth = { authorization: `Bearer ${API_TOKEN}` };
const transcript = JSON.parse(readFixture('valid/transcript/documented.json').toString('utf8')) as Record<string, unknown>;

/** A valid transcript of about BODY_BYTES: one long visitor message. */
function largeTranscript(n: number): string {
  const body = { ...transcript, conversationUUID: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` };
  const padding = BODY_BYTES - JSON.stringify(body).length;
  const messages = [{ text: 'x'.repeat(padding - 200), ts: '1469725409.000005', sentAt: '2016-07-28T19:03:29+02:00', userId: '', username: 'visitor', isVisitorMsg: true }];
  return JSON.stringify({ ...body, messages });
}

/** The process's peak resident set since start (or since the last reset), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

let server: ServerProcess;
beforeAll(async () => {
  // Seeded through the storage itself, so the server's peak is its reading, not its ingest of 160 MiB.
  const dataDir = tempDir('chatlio-relay-large-events-');
  const storage = await testStorage({ dataDir, dbSynchronous: 'normal' });
  for (let n = 0; n < EVENTS; n++) await storage.ingest(newEvent({ raw: largeTranscript(n) }));
  await storage.close();
  server = await startServer({ DATA_DIR: dataDir, BODY_LIMIT: String(BODY_BYTES + 1024 * 1024) });
}, 120_000);
afterAll(async () => {
  if (server) await stopServer(server);
});

describe('defect 15: reading large events takes unbounded memory', () => {
  it(`holds the server's peak RSS under ${PEAK_RSS_BOUND_MB} MB for a list of 100 and an export of ${EVENTS} × 4 MiB events`, async () => {
    const pid = server.child.pid!;
    const list = await fetch(`${server.url}/api/events?limit=100`, { headers: auth });
    expect(list.status).toBe(200);
    const page = (await list.json()) as { data: Array<{ id: string }>; nextCursor: string | null };
    expect(peakRssMb(pid), 'peak RSS (MB) after the list').toBeLessThan(PEAK_RSS_BOUND_MB);
    // Paged by bytes: fewer than 100 events, and a cursor to the rest.
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.length).toBeLessThan(EVENTS);
    expect(page.nextCursor).not.toBeNull();

    const exported = await fetch(`${server.url}/api/events/export`, { headers: auth });
    expect(exported.status).toBe(200);
    let lines = 0;
    let bytes = 0;
    const reader = exported.body!.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      bytes += chunk.value.length;
      for (const byte of chunk.value) if (byte === 10) lines += 1;
    }
    expect(lines).toBe(EVENTS);
    expect(bytes).toBeGreaterThan(EVENTS * (BODY_BYTES - 1024));

    const peak = peakRssMb(pid);
    console.log(`server peak RSS: ${Math.round(peak)} MB`);
    expect(peak).toBeLessThan(PEAK_RSS_BOUND_MB);
  }, 120_000);

  it('runs at most 2 exports at once and answers another 503 with Retry-After', async () => {
    // Two exports that nobody reads: each stays open, held by backpressure.
    const held = [new AbortController(), new AbortController()];
    const openExports = await Promise.all(held.map((controller) => fetch(`${server.url}/api/events/export`, { headers: auth, signal: controller.signal })));
    expect(openExports.map((response) => response.status)).toEqual([200, 200]);

    const refused = await fetch(`${server.url}/api/events/export`, { headers: auth });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { status: number }).status).toBe(503);

    // A client that goes away frees its place.
    held[0]!.abort();
    const next = await waitFor(async () => {
      const response = await fetch(`${server.url}/api/events/export`, { headers: auth });
      if (response.status === 200) return response;
      await response.arrayBuffer();
      return undefined;
    }, 10_000, 'a free export slot');
    await next.body!.cancel();
    held[1]!.abort();
  }, 60_000);
});
