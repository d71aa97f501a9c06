import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/sqlite/db.js';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.js';
import { tempDir } from '../helpers/app.js';

let dir: string;
let db: Db;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): Db {
  dir = tempDir();
  db = openDb(join(dir, 'test.sqlite'), { synchronous: 'full', busyTimeoutMs: 1000 });
  db.exec('CREATE TABLE items (value TEXT NOT NULL UNIQUE)');
  return db;
}

describe('GroupCommitter', () => {
  it('commits writes queued in the same event-loop turn in one transaction', async () => {
    open();
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const committer = new GroupCommitter(db, (write: () => unknown) => write());
    const insert = db.prepare('INSERT INTO items (value) VALUES (?)');
    const inTransaction: boolean[] = [];
    const writes = Array.from({ length: 50 }, (_, i) =>
      committer.run(() => {
        inTransaction.push(db.inTransaction);
        insert.run(`item-${i}`);
        return i;
      }),
    );
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(inTransaction.every(Boolean)).toBe(true);
    expect((db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n).toBe(50);
    // One commit writes the touched pages once; fifty commits would append at least fifty WAL frames.
    const [checkpoint] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    expect(checkpoint!.log).toBeLessThan(10);
  });

  it('rejects only the write that failed and commits the others of its group', async () => {
    open();
    const committer = new GroupCommitter(db, (write: () => unknown) => write());
    const insert = db.prepare('INSERT INTO items (value) VALUES (?)');
    const results = await Promise.allSettled([
      committer.run(() => insert.run('a')),
      committer.run(() => {
        insert.run('b');
        insert.run('a'); // violates UNIQUE: this write's savepoint, with its 'b', is rolled back
      }),
      committer.run(() => insert.run('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT value FROM items ORDER BY value').pluck().all()).toEqual(['a', 'c']);
  });

  it('rejects every write of a group whose commit fails, leaving nothing half-written', async () => {
    open();
    const committer = new GroupCommitter(db, (write: () => unknown) => write());
    const insert = db.prepare('INSERT INTO items (value) VALUES (?)');
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const results = await Promise.allSettled([
      committer.run(() => insert.run('x'.repeat(100_000))),
      committer.run(() => insert.run('small')),
    ]);
    expect(results[0]!.status).toBe('rejected');
    expect((db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n).toBeLessThanOrEqual(1);
    expect(db.inTransaction).toBe(false);
  });
});
