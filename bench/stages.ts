// Where a stored event's time goes: each ingest stage timed alone, in process, on unique ~3 KB transcripts.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { identify, payloadSchemas, type Payload } from '../src/chatlio/index.js';
import { parseJson } from '../src/json.js';
import { databaseIds, openDb } from '../src/store/sqlite/db.js';
import { eventStore } from '../src/store/sqlite/events.js';
import { searchStore } from '../src/store/sqlite/search.js';
import { searchableOf } from '../src/chatlio/searchable.js';

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const template = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/valid/transcript/documented.json'), 'utf8')) as object;
const bodies = Array.from({ length: N }, (_, i) => Buffer.from(JSON.stringify({ ...template, conversationUUID: `stage-${i}` })));

function time<T>(label: string, fn: () => T, timings: Map<string, number>): T {
  const started = performance.now();
  const value = fn();
  timings.set(label, (timings.get(label) ?? 0) + performance.now() - started);
  return value;
}

const dir = mkdtempSync(join(tmpdir(), 'chatlio-relay-stages-'));
try {
  for (const synchronous of ['full', 'normal'] as const) {
    const db = openDb(join(dir, `${synchronous}.sqlite`), { synchronous, busyTimeoutMs: 5000 });
    const events = eventStore(db, databaseIds(db));
    const search = searchStore(db);
    const timings = new Map<string, number>();
    const begin = db.prepare('BEGIN IMMEDIATE');
    const commit = db.prepare('COMMIT');
    for (let start = 0; start < N; start += BATCH) {
      const batch = bodies.slice(start, start + BATCH).map((raw) => {
        const json = time('parse JSON', () => parseJson(raw.toString('utf8')), timings);
        const payload = time('validate (zod)', () => payloadSchemas.transcript.parse(json) as Payload, timings);
        const bodySha256 = time('sha256', () => createHash('sha256').update('transcript\n').update(raw).digest(), timings);
        const identity = time('identify', () => identify('transcript', payload), timings);
        const searchable = time('extract search text', () => searchableOf('transcript', payload), timings);
        return { type: 'transcript' as const, receivedAt: Date.now(), raw, bodySha256, identity, searchable };
      });
      time('BEGIN', () => begin.run(), timings);
      const stored = time('INSERT event (row + its indexes)', () => batch.map((event) => events.insert(event)), timings);
      time('INSERT full-text row', () => batch.forEach((event, i) => search.index(stored[i]!.seq, event.searchable)), timings);
      time(`COMMIT (fsync; synchronous=${synchronous}, incl. WAL auto-checkpoints)`, () => commit.run(), timings);
    }
    db.close();
    const total = [...timings.values()].reduce((a, b) => a + b, 0);
    console.log(`\nPer stored event, synchronous=${synchronous}, ${N} events in transactions of ${BATCH}:\n`);
    console.log('| stage | µs per event | share |');
    console.log('|---|---|---|');
    for (const [label, ms] of timings) console.log(`| ${label} | ${((ms * 1000) / N).toFixed(1)} | ${((ms / total) * 100).toFixed(0)}% |`);
    console.log(`| total | ${((total * 1000) / N).toFixed(1)} | |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
