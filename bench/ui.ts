// Web inbox figures on a 1,000,000-event database: the inbox page's weight (HTML + CSS + JS) and its render time,
// p50/p95 over ROUNDS loads through real HTTP on localhost (the server's time plus a loopback round trip).
// Usage: npm run bench:ui (builds, then tsx bench/ui.ts [DATA_DIR]); ROUNDS=100 sets the loads per page.
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { DEFAULT_COUNT, DEFAULT_DATA_DIR, ensureDatabase } from './generate.js';
import { freePort, waitFor } from '../test/helpers/server.js';

const API_TOKEN = 'bench-api-token-0123456789abcdefghij';
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const ROUNDS = Number(process.env.ROUNDS ?? 100);
const WARMUP = 10;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const dataDir = process.argv[2] ?? DEFAULT_DATA_DIR;
  const { events } = ensureDatabase(dataDir, DEFAULT_COUNT);
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, API_TOKEN, WEBHOOK_TOKEN: 'bench-webhook-token-0123456789abcdef', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 60_000, 'bench server');
    const signIn = await fetch(`${url}/ui/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
      body: new URLSearchParams({ token: API_TOKEN }),
    });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const load = async (path: string) => {
      const started = performance.now();
      const response = await fetch(`${url}${path}`, { headers: { cookie } });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
      return { ms: performance.now() - started, body };
    };

    const weight: Array<[string, Buffer]> = [
      ['inbox HTML (50 rows)', (await load('/ui')).body],
      ['app.css', (await load('/ui/assets/app.css')).body],
      ['app.js', (await load('/ui/assets/app.js')).body],
    ];
    console.log(`web inbox on ${events.toLocaleString('en')} events, ${ROUNDS} loads per page after ${WARMUP} warm-up loads`);
    let total = 0;
    let totalGzip = 0;
    for (const [name, body] of weight) {
      const gzipped = gzipSync(body).length;
      total += body.length;
      totalGzip += gzipped;
      console.log(`  ${name.padEnd(22)} ${(body.length / 1024).toFixed(1).padStart(6)} KB  (${(gzipped / 1024).toFixed(1)} KB gzipped)`);
    }
    console.log(`  ${'page weight'.padEnd(22)} ${(total / 1024).toFixed(1).padStart(6)} KB  (${(totalGzip / 1024).toFixed(1)} KB gzipped)`);

    const pages: Array<[string, string]> = [
      ['inbox, newest 50', '/ui'],
      ['inbox, type + rating', '/ui?type=transcript&rating=down'],
      ['inbox, full-text search', '/ui?q=refund'],
      ['inbox, page 100 deep', ''],
    ];
    // A page key from far down the list, as "Older" links give.
    const deep = /href="\/ui\?before=(\d+)"/.exec((await load('/ui')).body.toString())?.[1];
    pages[3]![1] = `/ui?before=${Math.max(1, Number(deep) - 5000)}`;
    for (const [name, path] of pages) {
      for (let i = 0; i < WARMUP; i += 1) await load(path);
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i += 1) times.push((await load(path)).ms);
      times.sort((a, b) => a - b);
      console.log(`  ${name.padEnd(26)} p50 ${percentile(times, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(times, 95).toFixed(1).padStart(6)} ms`);
    }
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
