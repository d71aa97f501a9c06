// Query API figures on a 1,000,000-event database: page, search and conversation latencies through real HTTP, and export time and peak memory.
// Usage: npm run bench:query (builds, then tsx bench/query.ts [DATA_DIR]); ROUNDS=200 sets requests per scenario.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { DB_FILE, databaseIds, openDb } from '../src/store/sqlite/db.js';
import { eventQueries } from '../src/store/sqlite/event-queries.js';
import type { EventFilter } from '../src/store/storage.js';
import { parseSearchQuery } from '../src/store/search-terms.js';
import { toEventJsonText } from '../src/api/event-json.js';
import { DEFAULT_DATA_DIR, DEFAULT_COUNT, ensureDatabase } from './generate.js';
import { freePort, waitFor } from '../test/helpers/server.js';

const API_TOKEN = 'bench-api-token-0123456789abcdefghij';
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const ROUNDS = Number(process.env.ROUNDS ?? 200);
// PARTS=latency or PARTS=export runs one half; EXPORT_FORMATS=ndjson limits the export runs.
const PARTS = (process.env.PARTS ?? 'latency,export').split(',');
const EXPORT_FORMATS = (process.env.EXPORT_FORMATS ?? 'ndjson,csv').split(',') as Array<'ndjson' | 'csv'>;
const WARMUP = 20;
const DAY = 86_400_000;

type Server = { url: string; child: ChildProcess };

async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, API_TOKEN, WEBHOOK_TOKEN: 'bench-webhook-token-0123456789abcdef', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000, 'bench server');
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

function scenarios(db: Database.Database, maxSeq: number): Scenario[] {
  const sampleSeqs = Array.from({ length: 400 }, (_, i) => 1 + Math.floor(((i * 7919) % 400) / 400 * maxSeq));
  const at = db.prepare<[number], { c: string | null; v: string | null; e: string | null }>(
    'SELECT conversation_uuid AS c, visitor_uuid AS v, visitor_email AS e FROM events WHERE seq >= ? ORDER BY seq LIMIT 1',
  );
  const rows = sampleSeqs.map((seq) => at.get(seq)!);
  const conversations = rows.map((row) => row.c).filter((c): c is string => c !== null);
  const visitorKeys = rows.flatMap((row) => [row.v, row.e]).filter((v): v is string => v !== null);
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

/** The same requests without HTTP: SQL alone, and SQL plus turning rows into event JSON. */
function timeStore(queries: ReturnType<typeof eventQueries>, scenario: Scenario) {
  const sql: number[] = [];
  const json: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const request = scenario.next();
    const started = performance.now();
    const rows = request.conversation ? queries.conversation(request.conversation) : queries.list(request.filter!, { before: request.before, limit: 50 }).rows;
    const queried = performance.now();
    rows.map(toEventJsonText);
    const done = performance.now();
    if (i >= WARMUP) {
      sql.push(queried - started);
      json.push(done - started);
    }
  }
  return { sql: summarise(sql), json: summarise(json) };
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
  const { events } = ensureDatabase(dataDir, DEFAULT_COUNT);
  const db = openDb(join(dataDir, DB_FILE), { synchronous: 'normal', busyTimeoutMs: 5000 });
  const maxSeq = (db.prepare('SELECT max(seq) AS n FROM events').get() as { n: number }).n;
  const queries = eventQueries(db, databaseIds(db));
  console.log(`query benchmark on ${events.toLocaleString('en')} events (${dataDir}), ${ROUNDS} requests a scenario after ${WARMUP} warm-up\n`);

  const rows: string[] = [];
  const server = PARTS.includes('latency') ? await startServer(dataDir) : undefined;
  try {
    for (const scenario of server ? scenarios(db, maxSeq) : []) {
      const http = summarise(await timeHttp(server!, scenario));
      const store = timeStore(queries, scenarios(db, maxSeq).find((s) => s.name === scenario.name)!);
      rows.push(
        `| ${scenario.name} | ${http.p50.toFixed(2)} | ${http.p95.toFixed(2)} | ${store.sql.p50.toFixed(2)} | ${store.sql.p95.toFixed(2)} | ${store.json.p95.toFixed(2)} |`,
      );
      console.log(rows.at(-1));
    }
  } finally {
    if (server) await stopServer(server);
  }
  db.close();

  const exports = [];
  for (const format of PARTS.includes('export') ? EXPORT_FORMATS : []) {
    const result = await timeExport(dataDir, format);
    exports.push(`| ${format} | ${result.lines.toLocaleString('en')} | ${(result.bytes / 1e9).toFixed(2)} GB | ${result.seconds.toFixed(1)} s | ${result.peakRssMb.toFixed(0)} MB (idle ${result.idleRssMb.toFixed(0)} MB) |`);
    console.log(exports.at(-1));
  }

  console.log(`\n| scenario (limit 50) | HTTP p50 ms | HTTP p95 ms | SQL p50 ms | SQL p95 ms | SQL+JSON text p95 ms |\n|---|---|---|---|---|---|`);
  for (const row of rows) console.log(row);
  console.log(`\n| export | lines | size | time | server peak RSS |\n|---|---|---|---|---|`);
  for (const row of exports) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
