// Words as both backends index and search them: one tokenizer in TypeScript, so a query finds the same events on
// SQLite (FTS5) and PostgreSQL (tsvector), and what a user typed never reaches either engine's query syntax.
import type { SearchTerm } from './storage.js';

export const MAX_QUERY_TERMS = 16;

export class SearchQueryError extends Error {
  override name = 'SearchQueryError';
}

const combiningMarks = /\p{M}+/gu;
const nonWord = /[^\p{L}\p{N}]+/u;

/** Splits on anything but letters and digits, strips accents, lower-cases. */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(combiningMarks, '')
    .toLowerCase()
    .split(nonWord)
    .filter((token) => token !== '');
}

/**
 * Reads what a user typed: words and "quoted phrases", a trailing * on a word or phrase as a prefix search; every term
 * must match. Operators (AND, OR, NEAR, parentheses, column filters) are only words here.
 */
export function parseSearchQuery(input: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  for (const match of input.matchAll(/"([^"]*)"?(\*)?|(\S+)/gu)) {
    const phrase = match[1];
    const text = phrase ?? match[3]!.replaceAll('"', '');
    const prefix = phrase === undefined ? text.endsWith('*') : match[2] !== undefined;
    const tokens = tokenize(text);
    if (tokens.length > 0) terms.push({ tokens, prefix });
  }
  if (terms.length === 0) throw new SearchQueryError('q has no word to search for');
  if (terms.length > MAX_QUERY_TERMS) throw new SearchQueryError(`q has more than ${MAX_QUERY_TERMS} terms`);
  return terms;
}
