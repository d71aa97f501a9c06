// An app plus a running dispatch worker on a temp DATA_DIR, configured from an object written as CONFIG_FILE.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createTestApp, postWebhook, readFixture, tempDir, apiHeaders, type TestApp } from './app.js';
import { createWorker, type Worker } from '../../src/dispatch/worker.js';
import { waitFor } from './server.js';
import type { Delivery } from '../../src/store/storage.js';

export type DispatchApp = TestApp & {
  worker: Worker;
  configFile: string;
  /** Posts a webhook; returns the stored event id. */
  post: (type: string, body: Buffer | string | object) => Promise<string>;
  deliveries: (eventId: string) => Promise<Delivery[]>;
  /** Waits until every delivery of the event is in one of `statuses`. */
  settled: (eventId: string, statuses?: string[]) => Promise<Delivery[]>;
  api: (method: 'GET' | 'POST' | 'DELETE', url: string) => Promise<{ status: number; json: unknown }>;
};

export function writeConfig(config: unknown, dir = tempDir('chatlio-relay-config-')): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

let unique = 0;
/** A fixture's payload with a conversationUUID (and message) of its own, so it is never a duplicate. */
export function payload(type: string, overrides: Record<string, unknown> = {}, fixture = 'documented'): Record<string, unknown> {
  unique += 1;
  const base = JSON.parse(readFixture(`valid/${type}/${fixture}.json`).toString()) as Record<string, unknown>;
  const conversationUUID = `c0nv-${process.pid}-${Date.now()}-${unique}`;
  return { ...base, ...(type === 'offline-message' ? { message: `${String(base.message)} #${unique}` } : { conversationUUID }), ...overrides };
}

export async function createDispatchApp(config: unknown, options: { start?: boolean; env?: Record<string, string> } = {}): Promise<DispatchApp> {
  const configFile = writeConfig(config);
  const app = await createTestApp({ CONFIG_FILE: configFile, ...options.env });
  const worker = createWorker(app.ctx);
  if (options.start !== false) await worker.start();
  const deliveries = (eventId: string) => app.ctx.storage.deliveriesForEvent(app.ctx.storage.parseEventId(eventId)!);
  return {
    ...app,
    worker,
    configFile,
    post: async (type, body) => {
      const raw = Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
      const response = await postWebhook(app.app, type, raw);
      if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
      return (response.json() as { id: string }).id;
    },
    deliveries,
    settled: (eventId, statuses = ['succeeded', 'dead', 'cancelled']) =>
      waitFor(async () => {
        const rows = await deliveries(eventId);
        return rows.length > 0 && rows.every((row) => statuses.includes(row.status)) ? rows : undefined;
      }, 10_000, `deliveries of ${eventId} to reach ${statuses.join('/')}`),
    api: async (method, url) => {
      const response = await app.app.inject({ method, url, headers: apiHeaders });
      return { status: response.statusCode, json: response.body ? (response.json() as unknown) : undefined };
    },
    close: async () => {
      await worker.stop(1000);
      await app.close();
    },
  };
}

/** The retry schedule of most dispatch tests: two quick retries, no jitter. */
export const QUICK_RETRY = { schedule: ['50ms', '50ms'], jitter: 0 };

/** Runs `work` with `env` in process.env, as a user's shell would set it for the config loader, and restores it after. */
export async function withEnv<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
