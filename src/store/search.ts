// The full-text index, chat tags and first-response times: rows written beside each new event; user queries made safe for FTS5.
import type { Db } from './db.js';
import type { Searchable } from '../chatlio/searchable.js';

export type SearchStore = ReturnType<typeof searchStore>;

/** Rows go in here; they leave with their event (a trigger for the text, cascading foreign keys for the rest). */
export function searchStore(db: Db) {
  const insertText = db.prepare<[number, string], void>('INSERT INTO events_fts (rowid, text) VALUES (?, ?)');
  const insertTag = db.prepare<[string, number], void>('INSERT OR IGNORE INTO event_tags (tag, seq) VALUES (?, ?)');
  const insertFirstResponse = db.prepare<[number, number], void>('INSERT INTO transcript_first_response (seq, seconds) VALUES (?, ?)');
  return {
    /** Call inside the transaction that inserted the event. */
    index(seq: number, searchable: Searchable): void {
      if (searchable.text !== '') insertText.run(seq, searchable.text);
      for (const tag of searchable.tags) insertTag.run(tag, seq);
      if (searchable.firstResponseSeconds !== undefined) insertFirstResponse.run(seq, searchable.firstResponseSeconds);
    },
  };
}

export const MAX_QUERY_TERMS = 16;

export class SearchQueryError extends Error {
  override name = 'SearchQueryError';
}

// A term is searchable only if the tokenizer keeps something of it (letters or digits).
const hasWordCharacter = /[\p{L}\p{N}]/u;

const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * Turns what a user typed into an FTS5 query that cannot be read as FTS5 syntax: every word and "quoted phrase"
 * becomes a quoted string (so AND, OR, NEAR, parentheses and column filters are just text), a trailing * on a word
 * keeps its meaning as a prefix search, and all terms must match.
 */
export function toFtsQuery(input: string): string {
  const terms: string[] = [];
  const pattern = /"([^"]*)"?|(\S+)/gu;
  for (const match of input.matchAll(pattern)) {
    const phrase = match[1];
    if (phrase !== undefined) {
      if (hasWordCharacter.test(phrase)) terms.push(quote(phrase));
      continue;
    }
    const word = match[2]!.replaceAll('"', '');
    const prefix = word.endsWith('*');
    const bare = word.replace(/\*+$/, '');
    if (!hasWordCharacter.test(bare)) continue;
    terms.push(prefix ? `${quote(bare)}*` : quote(bare));
  }
  if (terms.length === 0) throw new SearchQueryError('q has no word to search for');
  if (terms.length > MAX_QUERY_TERMS) throw new SearchQueryError(`q has more than ${MAX_QUERY_TERMS} terms`);
  return terms.join(' ');
}
