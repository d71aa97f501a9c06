// The full-text index, chat tags and first-response times: the first-response row is written with its event, the
// full-text row in batches after it (see searchIndexer); search terms as FTS5.
import type { Db } from './db.js';
import type { Searchable } from '../../chatlio/searchable.js';
import type { SearchTerm } from '../storage.js';

export type SearchStore = ReturnType<typeof searchStore>;

/** Rows go in here; they leave with their event (a cascading foreign key). */
export function searchStore(db: Db) {
  const insertFirstResponse = db.prepare<[number, number], void>('INSERT INTO transcript_first_response (seq, seconds) VALUES (?, ?)');
  return {
    /** Call inside the transaction that inserted the event: stats read these rows, so they commit with it. */
    index(seq: number, searchable: Searchable): void {
      if (searchable.firstResponseSeconds !== undefined) insertFirstResponse.run(seq, searchable.firstResponseSeconds);
    },
  };
}

/** meta key: every event with a seq up to this one is in events_fts (or was deleted). */
const INDEXED_UP_TO = 'search_indexed_seq';

export type SearchIndexer = ReturnType<typeof searchIndexer>;

export type SearchIndexerOptions = {
  /** The longest a committed event waits for its full-text row when nothing searches (default 200 ms). */
  intervalMs?: number;
  /** Pending rows that trigger a write at once, bounding memory and how long one write holds the event loop (default 256). */
  maxPending?: number;
  /** The search data of a stored body, for events committed before a crash and never indexed. */
  searchableOfRaw: (type: string, raw: Buffer) => Searchable;
  /** A timer's write failed (disk full…); the rows stay pending and the next write tries again. */
  failed: (error: unknown) => void;
};

/**
 * Full-text rows written in batches, outside the ingest transaction. FTS5 turns the rows of each transaction into a
 * new segment and merges segments as they pile up: measured in process on the bench's transcripts (issue 10), a row
 * in each 12-event ingest transaction cost 32 µs of CPU per event, rows written 96 at a time 25 µs, 600 at a time 21 µs.
 * A write holds the event loop for its whole batch (about 22 µs a row), so batches stop at 256 rows (about 6 ms).
 *
 * - Rows of committed events wait in memory (`add`, called right after the commit) and are written on a timer, when
 *   enough are waiting, before every search (`flush`: the API never answers from a stale index) and on close.
 * - `meta.search_indexed_seq` moves with every write: a crash loses only the in-memory list, and `catchUp` at the next
 *   open indexes every event after the mark from its stored body.
 * - An event deleted before its row is written gets none (the insert checks it still exists); one process writes a
 *   database (the shared lock in lock.ts), so rows are added in seq order.
 */
export function searchIndexer(db: Db, options: SearchIndexerOptions) {
  const intervalMs = options.intervalMs ?? 200;
  const maxPending = options.maxPending ?? 256;
  const readMark = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = '${INDEXED_UP_TO}'`);
  const writeMark = db.prepare<[string]>(`INSERT INTO meta (key, value) VALUES ('${INDEXED_UP_TO}', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
  // The event may have been erased since its commit: then it gets no row.
  const insertText = db.prepare<{ seq: number; text: string; tags: string }, void>(`
    INSERT INTO events_fts (rowid, text, tags) SELECT @seq, @text, @tags WHERE EXISTS (SELECT 1 FROM events WHERE seq = @seq)`);
  const unindexed = db.prepare<[number, number], { seq: number; type: string; raw: Buffer }>('SELECT seq, type, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?');

  let pending: Array<{ seq: number; text: string; tags: string }> = [];
  let highestSeq = 0;
  let timer: NodeJS.Timeout | undefined;

  const mark = () => Number(readMark.get()?.value ?? 0);

  /** One transaction: the rows after the mark (another process's catch-up may have written some), then the new mark. */
  const write = db.transaction((rows: typeof pending, upTo: number) => {
    const from = mark();
    for (const row of rows) if (row.seq > from) insertText.run(row);
    if (upTo > from) writeMark.run(String(upTo));
  });

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (highestSeq === 0) return;
    write.immediate(pending, highestSeq);
    // Only after the commit: a failed write keeps the rows for the next try.
    pending = [];
    highestSeq = 0;
  };

  const onTimer = () => {
    timer = undefined;
    try {
      flush();
    } catch (error) {
      options.failed(error);
      timer = setTimeout(onTimer, intervalMs).unref();
    }
  };

  return {
    /** A committed event's row, to be written with the next batch. Call in commit (seq) order. */
    add(seq: number, searchable: Searchable): void {
      highestSeq = seq;
      if (searchable.text !== '' || searchable.tags.length > 0) pending.push({ seq, text: searchable.text, tags: searchable.tags.map(tagToken).join(' ') });
      if (pending.length === maxPending) setImmediate(onTimer);
      timer ??= setTimeout(onTimer, intervalMs).unref();
    },
    /** Writes every waiting row now; searches call it first. */
    flush,
    /** At open: events committed after the mark whose rows a crash lost, indexed from their bodies. */
    catchUp(): number {
      let indexed = 0;
      for (let rows = unindexed.all(mark(), maxPending); rows.length > 0; rows = unindexed.all(mark(), maxPending)) {
        const batch = rows.map((row) => {
          const searchable = options.searchableOfRaw(row.type, row.raw);
          return { seq: row.seq, text: searchable.text, tags: searchable.tags.map(tagToken).join(' ') };
        });
        write.immediate(
          batch.filter((row) => row.text !== '' || row.tags !== ''),
          rows.at(-1)!.seq,
        );
        indexed += rows.length;
      }
      return indexed;
    },
    /** Rows committed but not yet written (tests, metrics). */
    pendingCount: () => pending.length,
    stop(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * A tag as one token of letters and digits (t + hex of its UTF-8), so the tokenizer keeps it whole and a filter for
 * "feature-request" matches that tag, not the words feature and request.
 */
export function tagToken(tag: string): string {
  return `t${Buffer.from(tag, 'utf8').toString('hex')}`;
}

/** The FTS5 expression for "has this tag" (tag already normalised). */
export function tagMatch(tag: string): string {
  return `tags : "${tagToken(tag)}"`;
}

/**
 * Search terms as an FTS5 expression over the text column: each term a quoted phrase of its tokens (letters and digits
 * only, so nothing in it is FTS5 syntax), `*` after the closing quote for a prefix; all terms must match. unicode61
 * with remove_diacritics 2 splits and folds the indexed text as tokenize() does the query.
 */
export function ftsMatch(terms: readonly SearchTerm[]): string {
  const phrases = terms.map((term) => `"${term.tokens.join(' ')}"${term.prefix ? '*' : ''}`);
  // Only the text column: tags are searched with the tag filter.
  return `text : (${phrases.join(' ')})`;
}
