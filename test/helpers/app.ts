// A real app on a real SQLite file in a fresh temporary DATA_DIR, for route tests through inject().
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createContext, closeContext, type AppContext } from '../../src/context.js';
import { buildApp } from '../../src/app.js';
import { testStorage } from './storage.js';
import type { EventFilter, Storage } from '../../src/store/storage.js';

export const WEBHOOK_TOKEN = 'test-webhook-token-0123456789abcdef';
export const API_TOKEN = 'test-api-token-0123456789abcdefghij';

export function tempDir(prefix = 'chatlio-relay-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type TestApp = {
  app: FastifyInstance;
  ctx: AppContext;
  dataDir: string;
  /** Every log line written so far, as text. */
  logs: () => string;
  close: () => Promise<void>;
};

/** Builds the app on a temp DATA_DIR; `env` overrides the environment the config is read from. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = env.DATA_DIR ?? tempDir();
  const config = loadConfig({ DATA_DIR: dataDir, WEBHOOK_TOKEN, API_TOKEN, LOG_LEVEL: 'info', ...env });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, pretty: false, maskPii: config.logMaskPii }, sink);
  const ctx = await createContext(config, logger, { storage: await testStorage(config, logger) });
  const app = await buildApp(ctx);
  await app.ready();
  return {
    app,
    ctx,
    dataDir,
    logs: () => lines.join(''),
    close: async () => {
      await app.close();
      await closeContext(ctx);
      if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const fixturePath = (file: string) => join(import.meta.dirname, '..', '..', 'fixtures', file);
export const readFixture = (file: string): Buffer => readFileSync(fixturePath(file));

export type ManifestEntry = { file: string; type: string; expect: number; paths?: string[] };
export const manifest = (): ManifestEntry[] => JSON.parse(readFileSync(fixturePath('manifest.json'), 'utf8')) as ManifestEntry[];

/** POSTs a body to a webhook route through inject(). */
export function postWebhook(
  app: FastifyInstance,
  type: string,
  body: Buffer | string,
  options: { token?: string; contentType?: string } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/webhooks/chatlio/${type}?token=${encodeURIComponent(options.token ?? WEBHOOK_TOKEN)}`,
    headers: { 'content-type': options.contentType ?? 'application/json' },
    payload: body,
  });
}

export const apiHeaders = { authorization: `Bearer ${API_TOKEN}` };

/** How many stored events match `filter`, read through the storage interface (any backend). */
export async function countEvents(storage: Storage, filter: EventFilter = {}): Promise<number> {
  let total = 0;
  let before: number | undefined;
  do {
    const page = await storage.listEvents(filter, { before, limit: 500 });
    total += page.rows.length;
    before = page.next ?? undefined;
  } while (before !== undefined);
  return total;
}
