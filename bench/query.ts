// Query API figures on a 1,000,000-event database: page, search and conversation latencies through real HTTP and
// through the storage interface, and export time and peak memory. The same scenarios on either backend: SQLite in
// DATA_DIR, or PostgreSQL when DATABASE_URL is set (filled with the same events by bench/generate.ts).
// Usage: npm run bench:query (builds, then tsx bench/query.ts [DATA_DIR]); ROUNDS=200 sets requests per scenario.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openStorage, type Storage } from '../src/store/index.js';
import type { EventFilter, EventRow } from '../src/store/storage.js';
import { parseSearchQuery } from '../src/store/search-terms.js';
import { toEventJsonText } from '../src/api/event-json.js';
import { LIST_PAGE_BYTES } from '../src/api/events.js';
import { DEFAULT_DATA_DIR, DEFAULT_COUNT, ensureDatabase, ensurePostgresDatabase } from './generate.js';
import { freePort, waitFor } from '../test/helpers/server.js';
import { idle } from './cpu.js';

const API_TOKEN = 'bench-api-token-0123456789abcdefghij';
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const ROUNDS = Number(process.env.ROUNDS ?? 200);
// PARTS=latency or PARTS=export runs one half; EXPORT_FORMATS=ndjson limits the export runs.
const PARTS = (process.env.PARTS ?? 'latency,export').split(',');
const EXPORT_FORMATS = (process.env.EXPORT_FORMATS ?? 'ndjson,csv').split(',') as Array<'ndjson' | 'csv'>;
const WARMUP = 20;
const DAY = 86_400_000;

const DATABASE_URL = process.env.DATABASE_URL || undefined;

type Server = { url: string; child: ChildProcess };

/** The environment of the server and of the bench's own storage: the same database either way. */
function relayEnv(dataDir: string, port = 0): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    DATA_DIR: dataDir,
    ...(DATABASE_URL ? { DATABASE_URL } : {}),
    API_TOKEN,
    WEBHOOK_TOKEN: 'bench-webhook-token-0123456789abcdef',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
}

async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], { env: relayEnv(dataDir, port), stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000, 'bench server');
  await idle(child.pid!);
  return { url, child };
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function summarise(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/** A deterministic sequence of picks, so runs compare. */
function cycle<T>(items: T[]): () => T {
  let index = 0;
  return () => items[index++ % items.length]!;
}

type Scenario = { name: string; kind: string; next: () => { query: string; filter?: EventFilter; before?: number; conversation?: string } };

/** 400 events spread over the whole database (the newest at or below evenly spaced seqs): where the picks come from. */
async function sampleEvents(storage: Storage): Promise<EventRow[]> {
  const maxSeq = (await storage.listEvents({}, { limit: 1 })).rows[0]!.seq;
  const seqs = Array.from({ length: 400 }, (_, i) => 1 + Math.floor((((i * 7919) % 400) / 400) * maxSeq));
  return Promise.all(seqs.map(async (seq) => (await storage.listEvents({}, { before: seq + 1, limit: 1 })).rows[0]!));
}

/** The scenarios, each cycling from its start: call again for a run that makes the same requests. */
function scenarios(samples: EventRow[]): Scenario[] {
  const sampleSeqs = samples.map((row) => row.seq);
  const conversations = samples.map((row) => row.conversationUUID).filter((c): c is string => c !== null);
  const visitorKeys = samples.flatMap((row) => [row.visitorUUID, row.visitorEmail]).filter((v): v is string => v !== null);
  const now = Date.now();
  const filtered = cycle<[string, EventFilter]>([
    ['type=feedback', { types: ['feedback'] }],
    ['rating=down', { rating: 'down' }],
    ['tag=urgent', { tag: 'urgent' }],
    ['type=unanswered', { types: ['unanswered'] }],
    [`since=${new Date(now - 7 * DAY).toISOString()}&type=transcript`, { since: now - 7 * DAY, types: ['transcript'] }],
    ['type=transcript&rating=up', { types: ['transcript'], rating: 'up' }],
  ]);
  const visitor = cycle(visitorKeys);
  const deep = cycle(sampleSeqs);
  const words = cycle(['refund', 'invoice', '"charged twice"', 'integ*', 'nonprofits', 'müller', 'dashboard error', 'sales*']);
  const conversation = cycle(conversations);
  const cursor = (seq: number) => Buffer.from(`v1.${seq}`).toString('base64url');
  return [
    { name: 'filtered first page (type, rating, tag, since; rotating)', kind: 'filtered', next: () => { const [query, filter] = filtered(); return { query, filter }; } },
    { name: 'visitor first page (email or UUID)', kind: 'filtered', next: () => { const v = visitor(); return { query: `visitor=${encodeURIComponent(v)}`, filter: { visitor: v } }; } },
    { name: 'deep cursor page, no filter', kind: 'cursor', next: () => { const seq = deep(); return { query: `cursor=${cursor(seq)}`, filter: {}, before: seq }; } },
    { name: 'deep cursor page, type=feedback', kind: 'cursor', next: () => { const seq = deep(); return { query: `type=feedback&cursor=${cursor(seq)}`, filter: { types: ['feedback'] }, before: seq }; } },
    { name: 'full-text first page (word, phrase, prefix)', kind: 'fts', next: () => { const q = words(); return { query: `q=${encodeURIComponent(q)}`, filter: { search: parseSearchQuery(q) } }; } },
    { name: 'full-text deep cursor page', kind: 'fts', next: () => { const q = words(); const seq = deep(); return { query: `q=${encodeURIComponent(q)}&cursor=${cursor(seq)}`, filter: { search: parseSearchQuery(q) }, before: seq }; } },
    { name: 'conversation view', kind: 'conversation', next: () => ({ query: '', conversation: conversation() }) },
  ];
}

async function timeHttp(server: Server, scenario: Scenario): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const request = scenario.next();
    const url = request.conversation
      ? `${server.url}/api/conversations/${encodeURIComponent(request.conversation)}`
      : `${server.url}/api/events?${request.query}`;
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    if (i >= WARMUP) times.push(elapsed);
  }
  return times;
}

/** The same requests without HTTP: the storage call the route makes, and that plus turning rows into event JSON. */
async function timeStore(storage: Storage, scenario: Scenario) {
  const call: number[] = [];
  const json: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const request = scenario.next();
    const started = performance.now();
    const rows = request.conversation
      ? await storage.conversation(request.conversation)
      : (await storage.listEvents(request.filter!, { before: request.before, limit: 50, maxBytes: LIST_PAGE_BYTES })).rows;
    const queried = performance.now();
    rows.map(toEventJsonText);
    const done = performance.now();
    if (i >= WARMUP) {
      call.push(queried - started);
      json.push(done - started);
    }
  }
  return { call: summarise(call), json: summarise(json) };
}

async function timeExport(dataDir: string, format: 'ndjson' | 'csv') {
  const server = await startServer(dataDir);
  try {
    const idleRss = peakRssMb(server.child.pid!);
    const started = performance.now();
    const response = await fetch(`${server.url}/api/events/export?format=${format}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of response.body!) {
      const buffer = Buffer.from(chunk as Uint8Array);
      bytes += buffer.byteLength;
      for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    return { format, seconds, bytes, lines, peakRssMb: peakRssMb(server.child.pid!), idleRssMb: idleRss };
  } finally {
    await stopServer(server);
  }
}

async function main() {
  const dataDir = process.argv[2] ?? DEFAULT_DATA_DIR;
  const { events } = DATABASE_URL ? await ensurePostgresDatabase(DATABASE_URL, dataDir, DEFAULT_COUNT) : ensureDatabase(dataDir, DEFAULT_COUNT);
  const storage = await openStorage(loadConfig(relayEnv(dataDir)), createLogger({ level: 'warn', pretty: false, maskPii: true }));
  // Opening SQLite starts its quick_check here too: timings begin once it is over.
  await idle(process.pid);
  const samples = await sampleEvents(storage);
  const where = DATABASE_URL ? 'PostgreSQL at DATABASE_URL' : dataDir;
  console.log(`query benchmark on ${events.toLocaleString('en')} events (${storage.backend}, ${where}), ${ROUNDS} requests a scenario after ${WARMUP} warm-up\n`);

  const rows: string[] = [];
  const server = PARTS.includes('latency') ? await startServer(dataDir) : undefined;
  try {
    for (const [index, scenario] of (server ? scenarios(samples) : []).entries()) {
      const http = summarise(await timeHttp(server!, scenario));
      const store = await timeStore(storage, scenarios(samples)[index]!);
      rows.push(
        `| ${scenario.name} | ${http.p50.toFixed(2)} | ${http.p95.toFixed(2)} | ${store.call.p50.toFixed(2)} | ${store.call.p95.toFixed(2)} | ${store.json.p95.toFixed(2)} |`,
      );
      console.log(rows.at(-1));
    }
  } finally {
    if (server) await stopServer(server);
    await storage.close();
  }

  const exports = [];
  for (const format of PARTS.includes('export') ? EXPORT_FORMATS : []) {
    const result = await timeExport(dataDir, format);
    exports.push(`| ${format} | ${result.lines.toLocaleString('en')} | ${(result.bytes / 1e9).toFixed(2)} GB | ${result.seconds.toFixed(1)} s | ${result.peakRssMb.toFixed(0)} MB (idle ${result.idleRssMb.toFixed(0)} MB) |`);
    console.log(exports.at(-1));
  }

  console.log(`\n| scenario (limit 50) | HTTP p50 ms | HTTP p95 ms | storage p50 ms | storage p95 ms | storage+JSON text p95 ms |\n|---|---|---|---|---|---|`);
  for (const row of rows) console.log(row);
  console.log(`\n| export | lines | size | time | server peak RSS |\n|---|---|---|---|---|`);
  for (const row of exports) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
