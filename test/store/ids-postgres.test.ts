// Issue 12 defect 3 on PostgreSQL: the same id format as SQLite, with the database's identity from migration 003.
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, openTestStorage } from '../helpers/postgres.js';
import { deliverTo, newEvent } from '../helpers/events.js';
import type { PostgresStorage } from '../../src/store/postgres/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshStorage(): Promise<PostgresStorage> {
  const { url, drop } = await freshDatabase();
  const storage = await openTestStorage(url);
  cleanups.push(async () => {
    await storage.close();
    await drop();
  });
  return storage;
}

describe('defect 3 on PostgreSQL: ids are unique beyond one database', () => {
  it('gives the first event and delivery of two fresh databases different ids, and still reads old-format ids', async () => {
    const ids = [];
    for (const storage of [await freshStorage(), await freshStorage()]) {
      const stored = await storage.ingest(newEvent({ plan: deliverTo(Date.now(), 'receiver') }));
      const [delivery] = await storage.deliveriesForEvent(stored.seq);
      expect(stored.id).toMatch(/^evt_0000000001[0-9a-z]{8}$/);
      expect(delivery!.id).toMatch(/^dlv_0000000001[0-9a-z]{8}$/);
      expect(storage.parseEventId('evt_0000000001')).toBe(stored.seq);
      expect((await storage.getEvent(storage.parseEventId(stored.id)!))!.id).toBe(stored.id);
      ids.push(stored.id, delivery!.id);
    }
    expect(new Set(ids).size).toBe(4);
  });
});
