// Issue 12 defect 3: webhook-id (the delivery id) and event ids were the bare sequence, so a reset DATA_DIR or a
// second relay repeated dlv_0000000001 and a receiver deduplicating on it dropped new messages.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.js';
import { deliverTo, newEvent } from '../helpers/events.js';
import { testStorage } from '../helpers/storage.js';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import type { Storage } from '../../src/store/storage.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';

const cleanups = cleanupAfterEach();

async function storageIn(dir: string): Promise<Storage> {
  const storage = await testStorage({ dataDir: dir });
  cleanups.push(() => storage.close());
  return storage;
}

async function firstIds(storage: Storage): Promise<{ event: string; delivery: string }> {
  const stored = await storage.ingest(newEvent({ plan: deliverTo(Date.now(), 'receiver') }));
  const [delivery] = await storage.deliveriesForEvent(stored.seq);
  return { event: stored.id, delivery: delivery!.id };
}

describe('defect 3: ids are unique beyond one database', () => {
  it('gives different ids to the first event and delivery of two fresh databases', async () => {
    const one = await firstIds(await storageIn(tempDir()));
    const two = await firstIds(await storageIn(tempDir()));
    expect(one.event).not.toBe(two.event);
    expect(one.delivery).not.toBe(two.delivery);
    expect(one.delivery).toMatch(/^dlv_0000000001[0-9a-z]{8}$/);
  });

  it('gives a reset DATA_DIR new ids', async () => {
    const dir = tempDir();
    const before = await storageIn(dir);
    const first = await firstIds(before);
    await before.close();
    rmSync(dir, { recursive: true, force: true });
    const after = await firstIds(await storageIn(dir));
    expect(after.event).not.toBe(first.event);
    expect(after.delivery).not.toBe(first.delivery);
  });

  it('still reads an event by its old-format id (evt_0000000001), and no other database claims a new id', async () => {
    const storage = await storageIn(tempDir());
    const stored = await storage.ingest(newEvent());
    expect(storage.parseEventId('evt_0000000001')).toBe(stored.seq);
    expect(storage.parseEventId(stored.id)).toBe(stored.seq);
    const other = await storageIn(tempDir());
    expect(other.parseEventId(stored.id)).toBeUndefined();
  });

  it('sorts ids by arrival within one database', async () => {
    const storage = await storageIn(tempDir());
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await storage.ingest(newEvent())).id);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('defect 3: webhook-id', () => {
  it('is the same on every retry of one delivery and unique to it', async () => {
    let calls = 0;
    const remote: Sink = await startSink(() => (++calls < 3 ? { status: 503 } : { status: 200 }));
    cleanups.push(remote.close);
    const app: DispatchApp = await createDispatchApp({
      retry: { schedule: ['50ms', '50ms'], jitter: 0 },
      handlers: [{ name: 'receiver', type: 'http', events: '*', options: { url: `${remote.url}/in`, signingSecret: `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}` } }],
    });
    cleanups.push(app.close);
    const id = await app.post('transcript', `${JSON.stringify(payload('transcript'))}\n`);
    const [delivery] = await app.settled(id);
    expect(delivery!.status).toBe('succeeded');
    const webhookIds = remote.requests.map((request) => request.headers['webhook-id']);
    expect(webhookIds).toHaveLength(3);
    expect(new Set(webhookIds)).toEqual(new Set([delivery!.id]));
    expect(delivery!.id).toMatch(/^dlv_[0-9a-z]{18}$/);
  });
});
