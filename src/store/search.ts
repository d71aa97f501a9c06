// The full-text index, chat tags and first-response times: rows written beside each new event; user queries made safe for FTS5.
import type { Db } from './db.js';
import type { Searchable } from '../chatlio/searchable.js';

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
 * keeps its meaning as a prefix search, and all terms must match in the text column.
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
  // Only the text column: tags are searched with the tag filter.
  return `text : (${terms.join(' ')})`;
}
