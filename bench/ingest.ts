// Ingest benchmark: durable ingest (SQLite on an empty database and on one holding 1,000,000 events; PostgreSQL with
// one and with two replicas) vs bare Fastify on the same payload, in the same run, with the server processes' CPU time
// per acknowledged event and its ratio to bare Fastify's, plus the disk's fsync floor. Bare Fastify runs first and
// last: its two figures show how much the machine drifted during the run.
// PostgreSQL: PG_BENCH_URL (a role that may CREATE DATABASE), else a throwaway cluster like the tests'.
// The 1,000,000-event database is bench/generate.ts's (made once, about 10 minutes; BENCH_SKIP_1M=1 skips it), copied
// so the run does not change it.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startCluster } from '../test/helpers/postgres-cluster.js';
import { DB_FILE } from '../src/store/sqlite/db.js';
import { ensureDatabase } from './generate.js';
import { cpuMicros } from './cpu.js';

const ROOT = join(import.meta.dirname, '..');
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 20;
const TOKEN = 'bench-webhook-token-0123456789abcdef';
const template = JSON.parse(readFileSync(join(ROOT, 'fixtures/valid/transcript/documented.json'), 'utf8')) as Record<string, unknown>;

type Result = { name: string; rps: number; p50: number; p99: number; errors: number; non2xx: number; acknowledged: number; cpuUsPerEvent?: number };

/** Runs `work` and adds the CPU time the server processes spent meanwhile, per acknowledged (2xx) request. */
async function measured(servers: ChildProcess[], work: () => Promise<Result>): Promise<Result> {
  process.stderr.write('.');
  const before = servers.map((server) => cpuMicros(server.pid!));
  const result = await work();
  const spent = servers.reduce((sum, server, i) => sum + cpuMicros(server.pid!) - before[i]!, 0);
  return { ...result, cpuUsPerEvent: result.acknowledged > 0 ? spent / result.acknowledged : undefined };
}

/** Two load generators at once, half the connections each: req/s added up, p50 averaged, the worse p99. */
async function loadSplit(name: string, urls: string[]): Promise<Result> {
  const parts = await Promise.all(urls.map((url) => load(name, url, CONNECTIONS / urls.length)));
  return {
    name,
    rps: parts.reduce((sum, part) => sum + part.rps, 0),
    p50: parts.reduce((sum, part) => sum + part.p50, 0) / parts.length,
    p99: Math.max(...parts.map((part) => part.p99)),
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    non2xx: parts.reduce((sum, part) => sum + part.non2xx, 0),
    acknowledged: parts.reduce((sum, part) => sum + part.acknowledged, 0),
  };
}

async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`server at ${url} not ready`);
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Each request carries a unique conversationUUID, so every body is a new event (no duplicate short-cut). */
let counter = 0;
async function load(name: string, url: string, connections = CONNECTIONS): Promise<Result> {
  const result = await autocannon({
    url,
    connections,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ ...template, conversationUUID: `bench-${process.pid}-${counter++}` }) }),
      },
    ],
  });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    acknowledged: result['2xx'],
  };
}

function fdatasyncFloor(dir: string): { medianMs: number; p99Ms: number } {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const times: number[] = [];
  const block = Buffer.alloc(512, 1);
  for (let i = 0; i < 300; i++) {
    writeSync(fd, block, 0, block.length, 0);
    const started = performance.now();
    fdatasyncSync(fd);
    times.push(performance.now() - started);
  }
  closeSync(fd);
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, p99Ms: times[Math.floor(times.length * 0.99)]! };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chatlio-relay-bench-'));
  const results: Result[] = [];
  try {
    const floor = fdatasyncFloor(dataDir);

    const bareRun = async (name: string) => {
      const barePort = '39101';
      const bare = start(['--import', 'tsx', 'bench/bare-server.ts'], { PORT: barePort });
      const bareUrl = `http://127.0.0.1:${barePort}/webhooks/chatlio/transcript`;
      await waitReady(bareUrl, bare);
      await load('warm-up', bareUrl);
      results.push(await measured([bare], () => load(name, bareUrl)));
      await stop(bare);
    };
    await bareRun('bare Fastify (parse JSON, answer)');
    const million = process.env.BENCH_SKIP_1M ? undefined : ensureDatabase();

    const relayEnv = { HOST: '127.0.0.1', WEBHOOK_TOKEN: TOKEN, API_TOKEN: 'bench-api-token-0123456789abcdefghij', LOG_LEVEL: 'warn' };
    const sqliteRun = async (name: string, dir: string, synchronous: 'full' | 'normal') => {
      const port = '39102';
      const relay = start(['dist/cli.js', 'serve'], { ...relayEnv, PORT: port, DATA_DIR: dir, DB_SYNCHRONOUS: synchronous });
      const url = `http://127.0.0.1:${port}/webhooks/chatlio/transcript?token=${TOKEN}`;
      await waitReady(url, relay);
      results.push(await measured([relay], () => load(name, url)));
      await stop(relay);
    };
    await sqliteRun('chatlio-relay ingest, SQLite synchronous=full, empty database', join(dataDir, 'full'), 'full');
    if (million) {
      const dir = join(dataDir, 'million');
      mkdirSync(dir, { mode: 0o700 });
      copyFileSync(million.path, join(dir, DB_FILE));
      await sqliteRun(`chatlio-relay ingest, SQLite synchronous=full, ${million.events.toLocaleString('en')} events stored`, dir, 'full');
      rmSync(dir, { recursive: true, force: true });
    }
    await sqliteRun('chatlio-relay ingest, SQLite synchronous=normal, empty database', join(dataDir, 'normal'), 'normal');

    const cluster = process.env.PG_BENCH_URL ? undefined : await startCluster();
    try {
      const serverUrl = process.env.PG_BENCH_URL ?? cluster!.url;
      for (const replicas of [1, 2]) {
        const databaseUrl = await createDatabase(serverUrl, `chatlio_bench_${replicas}`);
        const ports = Array.from({ length: replicas }, (_, i) => String(39104 + i));
        const relays = ports.map((port) => start(['dist/cli.js', 'serve'], { ...relayEnv, PORT: port, DATA_DIR: join(dataDir, `pg-${port}`), DATABASE_URL: databaseUrl }));
        const urls = ports.map((port) => `http://127.0.0.1:${port}/webhooks/chatlio/transcript?token=${TOKEN}`);
        for (const [i, url] of urls.entries()) await waitReady(url, relays[i]!);
        process.stderr.write(`[pg ${replicas}]`);
        const name = `chatlio-relay ingest, PostgreSQL, ${replicas} replica${replicas > 1 ? 's (load split evenly)' : ''}`;
        results.push(await measured(relays, () => loadSplit(name, urls)));
        for (const relay of relays) await stop(relay);
      }
    } finally {
      cluster?.stop();
    }

    await bareRun('bare Fastify again, at the end (drift check)');

    // The baseline: the two bare runs averaged, so a machine that got busier or quieter during the run shows in both.
    const bares = [results[0]!, results.at(-1)!];
    const base = { rps: (bares[0]!.rps + bares[1]!.rps) / 2, cpu: (bares[0]!.cpuUsPerEvent! + bares[1]!.cpuUsPerEvent!) / 2 };
    console.log(`\nIngest: ${CONNECTIONS} connections, ${DURATION_S} s each, unique ~3 KB transcripts (load generator on the same 2 cores)\n`);
    console.log('| variant | req/s | p50 ms | p99 ms | req/s vs bare | server CPU µs / event | CPU vs bare | errors | non-2xx |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const cpu = r.cpuUsPerEvent === undefined ? '–' : String(Math.round(r.cpuUsPerEvent));
      const cpuRatio = r.cpuUsPerEvent === undefined ? '–' : `${(r.cpuUsPerEvent / base.cpu).toFixed(1)}×`;
      console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${(r.rps / base.rps).toFixed(2)} | ${cpu} | ${cpuRatio} | ${r.errors} | ${r.non2xx} |`);
    }
    console.log('Ratios against the mean of the two bare Fastify runs.');
    console.log('Server CPU: user + system time of the chatlio-relay process(es) (/proc/<pid>/stat) over the run, per 2xx answer; PostgreSQL\'s own processes are not counted.');
    console.log(`\nDisk floor in DATA_DIR: one fdatasync of a 512-byte write: median ${floor.medianMs.toFixed(3)} ms, p99 ${floor.p99Ms.toFixed(3)} ms`);
    for (const durable of results.filter((r) => r.name.includes('synchronous=full'))) {
      const cpuRatio = durable.cpuUsPerEvent! / base.cpu;
      const rpsRatio = durable.rps / base.rps;
      const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
      console.log(
        `Target for "${durable.name}": CPU ≤ 3× bare: ${cpuRatio.toFixed(1)}× (${verdict(cpuRatio <= 3)}); req/s ≥ 0.33× bare: ${rpsRatio.toFixed(2)}× (${verdict(rpsRatio >= 0.33)}); p99 < 15 ms: ${durable.p99} ms (${verdict(durable.p99 < 15)})`,
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
