// Defect 14 (issue 12): an export blocked the event loop for its whole length, so webhooks and health checks waited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, readFixture, tempDir } from '../helpers/app.js';
import { newEvent } from '../helpers/events.js';
import { testStorage } from '../helpers/storage.js';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';

// Enough events that the old export held the loop for seconds on this machine (about 3 s); the new one yields a turn
// per page, so a webhook waits at most about one page of work.
const EVENTS = 30_000;
// The bound is 500 ms, or three times the p99 of the same webhooks without an export when the machine is so loaded
// that even those are slow (the old code was over 5 s either way).
const P99_BOUND_MS = 500;

const transcript = JSON.parse(readFixture('valid/transcript/documented.json').toString('utf8')) as Record<string, unknown>;
const transcriptBody = (n: number) => JSON.stringify({ ...transcript, conversationUUID: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` });

let server: ServerProcess;
beforeAll(async () => {
  // Seeded through the storage itself (the same files the server then opens): thousands of webhooks would take longer.
  const dataDir = tempDir('chatlio-relay-export-loop-');
  const storage = await testStorage({ dataDir, dbSynchronous: 'normal' });
  for (let start = 0; start < EVENTS; start += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => storage.ingest(newEvent({ raw: transcriptBody(start + i) }))));
  }
  await storage.close();
  // DB_SYNCHRONOUS=normal: the test measures waits on the event loop, not fsync stalls of a disk shared with other jobs.
  server = await startServer({ DATA_DIR: dataDir, DB_SYNCHRONOUS: 'normal' });
}, 120_000);
afterAll(async () => {
  if (server) await stopServer(server);
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function webhookLatency(n: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.url}/webhooks/chatlio/transcript?token=${WEBHOOK_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: transcriptBody(n),
  });
  await response.arrayBuffer();
  expect(response.status).toBe(200);
  return performance.now() - started;
}

describe('defect 14: an export blocks the event loop for its whole length', () => {
  it(`keeps the p99 webhook latency under ${P99_BOUND_MS} ms while ${EVENTS} events stream to a fast reader`, async () => {
    let n = EVENTS;
    const baseline: number[] = [];
    for (let i = 0; i < 30; i++) baseline.push(await webhookLatency(++n));
    const bound = Math.max(P99_BOUND_MS, 3 * percentile(baseline, 99));

    let exportDone = false;
    let exportedLines = 0;
    const exported = (async () => {
      const response = await fetch(`${server.url}/api/events/export`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(response.status).toBe(200);
      // A fast reader: every chunk is taken as soon as it arrives.
      const reader = response.body!.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        for (const byte of chunk.value) if (byte === 10) exportedLines += 1;
      }
      exportDone = true;
    })();

    const latencies: number[] = [];
    while (!exportDone) latencies.push(await webhookLatency(++n));
    await exported;

    // Every event stored before the export read its first page.
    expect(exportedLines).toBeGreaterThanOrEqual(EVENTS + baseline.length);
    const p99 = percentile(latencies, 99);
    expect(p99, `webhook latencies during the export (ms): ${latencies.map(Math.round).join(', ')}`).toBeLessThan(bound);
    // Webhooks were answered all along, not only once the export had ended.
    expect(latencies.length).toBeGreaterThan(5);
  }, 120_000);
});
