// Prints how long `chatlio-relay backup` takes on a large live database, and what it does to ingest meanwhile.
// Run: npm run build && npx tsx bench/backup.ts [events=2000]   (each event is the 195 KB, 500-message transcript)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'chatlio-relay-bench-backup-'));
const env = {
  PATH: process.env.PATH,
  DATA_DIR: dir,
  PORT: '3977',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  WEBHOOK_TOKEN: 'bench-webhook-token-0123456789abcdef',
  API_TOKEN: 'bench-api-token-0123456789abcdefghij',
};
const server = spawn(process.execPath, [cli, 'serve'], { env, stdio: 'ignore' });
const sample = JSON.parse(readFileSync(join(repo, 'fixtures/valid/transcript/large-500-messages.json'), 'utf8')) as object;
const url = `http://127.0.0.1:${env.PORT}/webhooks/chatlio/transcript?token=${env.WEBHOOK_TOKEN}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (let tries = 0; ; tries++) {
  const ready = await fetch(`http://127.0.0.1:${env.PORT}/readyz`).then((r) => r.ok, () => false);
  if (ready) break;
  if (tries > 100) throw new Error('server did not start');
  await sleep(100);
}
let sent = 0;
const post = () =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...sample, conversationUUID: `bench-${sent++}` }) }).then(async (r) => {
    if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
  });

/** Four concurrent posters until `until` resolves; returns how many events they stored. */
async function ingestWhile(until: Promise<unknown>): Promise<number> {
  let running = true;
  let stored = 0;
  void until.then(() => (running = false));
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (running) {
      await post();
      stored++;
    }
  }));
  return stored;
}

const target = Number(process.argv[2] ?? 2000);
while (sent < target) await Promise.all(Array.from({ length: 8 }, post));
const baseline = await ingestWhile(sleep(2000));
const dbFile = join(dir, 'chatlio-relay.sqlite');
const size = statSync(dbFile).size + statSync(`${dbFile}-wal`).size;
const before = sent;

const started = Date.now();
const backup = spawn(process.execPath, [cli, 'backup', join(dir, 'backup.sqlite')], { env, stdio: 'inherit' });
const during = await ingestWhile(new Promise((resolve) => backup.on('exit', resolve)));
const seconds = (Date.now() - started) / 1000;

console.log(`database at the start of the backup: ${(size / 1e6).toFixed(0)} MB, ${before} events`);
console.log(`ingest without a backup: ${(baseline / 2).toFixed(0)} events/s (4 concurrent posters)`);
console.log(`backup: ${seconds.toFixed(1)} s end to end (CLI start, copy, quick_check); ingest meanwhile: ${(during / seconds).toFixed(0)} events/s`);
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));
rmSync(dir, { recursive: true, force: true });
