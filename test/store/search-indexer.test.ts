// Full-text rows are written in batches after the events' commits (src/store/sqlite/search.ts): what must not move
// is that every acknowledged event becomes findable, soon without a search, at once with one, and after a crash.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage, type SqliteStorage } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/app.js';
import { newEvent } from '../helpers/events.js';
import { parseSearchQuery } from '../../src/store/search-terms.js';

let dir: string;
let storage: SqliteStorage | undefined;
afterEach(async () => {
  await storage?.close();
  storage = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<SqliteStorage> {
  storage = await openSqliteStorage({ path: join(dir, 'test.sqlite'), synchronous: 'full', busyTimeoutMs: 5000, rejectionsMax: 100 });
  return storage;
}
const rowsMatching = (db: Database.Database, word: string) => (db.prepare('SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH ?').get(`"${word}"`) as { n: number }).n;
const search = async (store: SqliteStorage, query: string) => (await store.listEvents({ search: parseSearchQuery(query) }, { limit: 100 })).rows.map((event) => event.id);

describe('search indexing after the commit', () => {
  it('writes a new event\'s full-text row within one second while events keep arriving, without any search asking', async () => {
    dir = tempDir();
    const store = await open();
    let arriving = true;
    const load = (async () => {
      for (let n = 0; arriving; n++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.ingest(newEvent({ text: `background chatter ${n} ${i}` }))));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await store.ingest(newEvent({ text: 'needle quokka' }));
      const acknowledged = Date.now();
      while (rowsMatching(store.db, 'quokka') === 0 && Date.now() - acknowledged < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(rowsMatching(store.db, 'quokka')).toBe(1);
      expect(Date.now() - acknowledged).toBeLessThan(1000);
    } finally {
      arriving = false;
      await load;
    }
  });

  it('answers a search with every acknowledged event at once: the search writes the waiting rows first', async () => {
    dir = tempDir();
    const store = await open();
    const stored = await Promise.all(['axolotl one', 'axolotl two', 'tagged'].map((text, i) => store.ingest(newEvent({ text, tags: i === 2 ? ['vip'] : [] }))));
    expect(rowsMatching(store.db, 'axolotl')).toBe(0);
    expect(await search(store, 'axolotl')).toEqual([stored[1]!.id, stored[0]!.id]);
    expect((await store.listEvents({ tag: 'vip' }, { limit: 10 })).rows.map((event) => event.id)).toEqual([stored[2]!.id]);
  });

  it('gives an event erased before its row was written no row at all', async () => {
    dir = tempDir();
    const store = await open();
    const gone = await store.ingest(newEvent({ text: 'ephemeral narwhal' }));
    await store.ingest(newEvent({ text: 'lasting narwhal' }));
    expect(await store.deleteEvent(gone.seq)).toBe(true);
    expect(await search(store, 'narwhal')).toHaveLength(1);
    expect(rowsMatching(store.db, 'ephemeral')).toBe(0);
  });

  it('indexes, at the next open, the events a kill -9 left without full-text rows, from their stored bodies', async () => {
    dir = tempDir();
    const path = join(dir, 'test.sqlite');
    const child = join(import.meta.dirname, 'children/ingest-then-sigkill.ts');
    let printed = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', child, path, '40'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    } catch (error) {
      expect((error as { signal?: string }).signal).toBe('SIGKILL');
      printed = (error as { stdout: string }).stdout;
    }
    const acknowledged = JSON.parse(printed) as string[];
    expect(acknowledged).toHaveLength(40);
    // The crash happened before the indexer wrote anything: the mark is behind the events.
    const raw = new Database(path, { readonly: true });
    const mark = Number((raw.prepare("SELECT value FROM meta WHERE key = 'search_indexed_seq'").get() as { value: string }).value);
    const highest = (raw.prepare('SELECT max(seq) AS seq FROM events').get() as { seq: number }).seq;
    const rows = (raw.prepare('SELECT count(*) AS n FROM events_fts').get() as { n: number }).n;
    raw.close();
    expect({ mark, rows }).toEqual({ mark: 0, rows: 0 });
    expect(highest).toBe(40);

    const store = await open();
    expect(rowsMatching(store.db, 'wombat7')).toBe(1);
    expect((await search(store, 'wombat*')).sort()).toEqual([...acknowledged].sort());
    expect(await search(store, 'wombat39')).toEqual([acknowledged[39]]);
  });
});
