// Defect 15 (issue 12): listEvents pages by bytes as well as rows, so a page of large events is bounded in memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.js';
import { newEvent } from '../helpers/events.js';
import { testStorage } from '../helpers/storage.js';
import { rowsThatFit, type Storage } from '../../src/store/storage.js';

let storage: Storage;
const sizes = [1000, 3000, 500, 4000, 100];
beforeAll(async () => {
  storage = await testStorage({ dataDir: tempDir() });
  // Oldest first; pages come newest first: 100, 4000, 500, 3000, 1000 bytes.
  for (const [n, size] of sizes.entries()) {
    const head = JSON.stringify({ n, pad: '' });
    await storage.ingest(newEvent({ raw: JSON.stringify({ n, pad: 'x'.repeat(size - head.length) }) }));
  }
});
afterAll(async () => {
  await storage?.close();
});

describe('defect 15: a page of events is bounded in bytes', () => {
  it('takes rows while their bodies fit, always at least one, and never more than the limit', () => {
    expect(rowsThatFit([100, 4000, 500], 10, 4100)).toBe(2);
    expect(rowsThatFit([5000, 1], 10, 100)).toBe(1);
    expect(rowsThatFit([1, 1, 1], 2, 100)).toBe(2);
    expect(rowsThatFit([1, 1, 1], 5)).toBe(3);
  });

  it('ends a page once the stored bodies would pass maxBytes, and the cursor walks every event once', async () => {
    const walked: number[][] = [];
    let before: number | undefined;
    for (;;) {
      const page = await storage.listEvents({}, { before, limit: 10, maxBytes: 4200 });
      walked.push(page.rows.map((row) => row.raw.length));
      if (page.next === null) break;
      before = page.next;
    }
    expect(walked).toEqual([[100, 4000], [500, 3000], [1000]]);
  });

  it('still holds one event bigger than maxBytes, and keeps the row limit', async () => {
    const page = await storage.listEvents({}, { limit: 10, maxBytes: 10 });
    expect(page.rows.map((row) => row.raw.length)).toEqual([100]);
    expect(page.next).not.toBeNull();
    const limited = await storage.listEvents({}, { limit: 2, maxBytes: 1_000_000 });
    expect(limited.rows).toHaveLength(2);
    const all = await storage.listEvents({}, { limit: 10, maxBytes: 1_000_000 });
    expect(all.rows.map((row) => row.raw.length)).toEqual([...sizes].reverse());
    expect(all.next).toBeNull();
  });
});
