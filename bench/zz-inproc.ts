// TEMP experiment harness (not committed): CPU per request in process via inject, relay vs bare.
import Fastify from 'fastify';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createContext, closeContext } from '../src/context.js';
import { buildApp } from '../src/app.js';

const N = Number(process.env.N ?? 6000);
const WAVE = 20;
const tpl = JSON.parse(readFileSync('fixtures/valid/transcript/documented.json', 'utf8')) as object;
let c = 0;
const body = () => JSON.stringify({ ...tpl, conversationUUID: `ip-${process.pid}-${c++}` });
async function drive(app: { inject: Function }, url: string, label: string) {
  for (let i = 0; i < 1000; i += WAVE) await Promise.all(Array.from({ length: WAVE }, () => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body() })));
  const t0 = process.cpuUsage(); const w0 = performance.now();
  for (let i = 0; i < N; i += WAVE) {
    const rs = await Promise.all(Array.from({ length: WAVE }, () => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: body() })));
    if (rs.some((r: { statusCode: number }) => r.statusCode !== 200)) throw new Error(rs[0].body);
  }
  const t = process.cpuUsage(t0); const w = performance.now() - w0;
  console.log(`${label}: cpu µs/req ${((t.user + t.system) / N).toFixed(1)} (user ${(t.user / N).toFixed(1)} sys ${(t.system / N).toFixed(1)}) wall µs/req ${((w * 1000) / N).toFixed(1)}`);
}
const which = process.argv[2] ?? 'both';
if (which !== 'relay') {
  const bare = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
  bare.post('/webhooks/chatlio/transcript', async (request) => ({ received: typeof request.body === 'object' }));
  await drive(bare, '/webhooks/chatlio/transcript', 'bare');
}
if (which !== 'bare') {
  const dir = mkdtempSync('/tmp/prof/ip-');
  const env = { ...process.env, DATA_DIR: dir, WEBHOOK_TOKEN: 'bench-webhook-token-0123456789abcdef', API_TOKEN: 'bench-api-token-0123456789abcdefghij', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const config = loadConfig(env);
  const ctx = await createContext(config, createLogger({ level: config.logLevel, pretty: false, maskPii: config.logMaskPii }));
  const app = await buildApp(ctx);
  await app.ready();
  await drive(app, '/webhooks/chatlio/transcript?token=bench-webhook-token-0123456789abcdef', `relay ${process.env.LABEL ?? ''}`);
  await app.close(); await closeContext(ctx); rmSync(dir, { recursive: true });
}
