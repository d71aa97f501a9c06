// Prints what dispatch costs: ingest time per event with 0–3 matching handlers, and worker deliveries per second.
// Run: npx tsx bench/dispatch.ts   (figures, not a test; nothing asserts on them)
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createContext, closeContext, type AppContext } from '../src/context.js';
import { ingestEvent } from '../src/ingest/pipeline.js';
import { payloadSchemas } from '../src/chatlio/index.js';
import { parseJson } from '../src/json.js';
import { createWorker } from '../src/dispatch/worker.js';

const fixture = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'valid', 'transcript', 'documented.json'), 'utf8');

async function context(handlers: unknown[] | undefined): Promise<{ ctx: AppContext; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatlio-relay-bench-'));
  const env: Record<string, string> = { DATA_DIR: dir, WEBHOOK_TOKEN: 'bench-webhook-token-0123456789', API_TOKEN: 'bench-api-token-0123456789abc', LOG_LEVEL: 'silent' };
  if (handlers) {
    env.CONFIG_FILE = join(dir, 'config.yaml');
    writeFileSync(env.CONFIG_FILE, stringify({ retry: { schedule: ['1s'] }, handlers }));
  }
  const config = loadConfig(env);
  return { ctx: await createContext(config, createLogger({ level: 'silent', pretty: false, maskPii: false })), dir };
}

function event(index: number) {
  const raw = Buffer.from(fixture.replace('e3d1800d-2d9e-4966-4500-9ff986cfa197', `bench-${index}`));
  const payload = payloadSchemas.transcript.parse(parseJson(raw.toString()));
  return { type: 'transcript' as const, raw, payload, receivedAt: Date.now() };
}

/** Ingests `count` transcripts, `batch` per event-loop turn (so per group commit); returns µs per event. */
async function ingest(ctx: AppContext, count: number, batch = 50): Promise<number> {
  const events = Array.from({ length: count }, (_, index) => event(index));
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < count; offset += batch) {
    await Promise.all(events.slice(offset, offset + batch).map((item) => ingestEvent(ctx, item)));
  }
  return Number(process.hrtime.bigint() - started) / 1000 / count;
}

const log = (name: string) => ({ name, type: 'log', events: ['transcript'] });

async function ingestCost(): Promise<void> {
  const count = 5000;
  const variants: Array<[string, unknown[] | undefined]> = [
    ['no CONFIG_FILE', undefined],
    ['1 matching handler', [log('a')]],
    ['3 matching handlers', [log('a'), log('b'), log('c')]],
    ['1 escalation (delay + unlessFollowedBy: [transcript])', [{ ...log('a'), events: ['unanswered'], delay: '5m', unlessFollowedBy: ['transcript'] }]],
  ];
  console.log(`ingest, ${count} documented transcripts (3 KB), 50 per group commit, synchronous=FULL, in-process:`);
  for (const [name, handlers] of variants) {
    const { ctx, dir } = await context(handlers);
    await ingest(ctx, 500); // warm-up
    const perEvent = await ingest(ctx, count);
    console.log(`  ${name.padEnd(56)} ${perEvent.toFixed(1)} µs/event`);
    await closeContext(ctx);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function workerThroughput(): Promise<void> {
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const address = sink.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/in`;
  const count = 2000;
  console.log(`worker, ${count} deliveries planned first, then drained (sink in the same process answers 200 at once):`);
  for (const [name, handler] of [
    ['log handler (bookkeeping only), concurrency 4', { name: 'a', type: 'log', events: '*', options: { level: 'debug' } }],
    ['http handler, concurrency 4', { name: 'a', type: 'http', events: '*', options: { url } }],
    ['http handler, concurrency 16', { name: 'a', type: 'http', events: '*', concurrency: 16, options: { url } }],
  ] as const) {
    const { ctx, dir } = await context([handler]);
    await ingest(ctx, count);
    const worker = createWorker(ctx);
    const started = process.hrtime.bigint();
    await worker.start();
    while ((await ctx.storage.deliveryCounts({ since: 0, until: Date.now() + 60_000 })).succeeded < count) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`  ${name.padEnd(56)} ${(count / seconds).toFixed(0)} deliveries/s`);
    await worker.stop();
    await closeContext(ctx);
    rmSync(dir, { recursive: true, force: true });
  }
  sink.close();
}

await ingestCost();
await workerThroughput();
