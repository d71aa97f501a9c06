// The full-text index, chat tags and first-response times: rows written beside each new event; search terms as FTS5.
import type { Db } from './db.js';
import type { Searchable } from '../../chatlio/searchable.js';
import type { SearchTerm } from '../storage.js';

export type SearchStore = ReturnType<typeof searchStore>;

/** Rows go in here; they leave with their event (a trigger for the full-text row, a cascading foreign key for the rest). */
export function searchStore(db: Db) {
  const insertText = db.prepare<[number, string, string], void>('INSERT INTO events_fts (rowid, text, tags) VALUES (?, ?, ?)');
  const insertFirstResponse = db.prepare<[number, number], void>('INSERT INTO transcript_first_response (seq, seconds) VALUES (?, ?)');
  return {
    /** Call inside the transaction that inserted the event. */
    index(seq: number, searchable: Searchable): void {
      if (searchable.text !== '' || searchable.tags.length > 0) insertText.run(seq, searchable.text, searchable.tags.map(tagToken).join(' '));
      if (searchable.firstResponseSeconds !== undefined) insertFirstResponse.run(seq, searchable.firstResponseSeconds);
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
