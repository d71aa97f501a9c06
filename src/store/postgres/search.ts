// Full-text on PostgreSQL: the tsvector and tsquery are written in TypeScript from tokenize() output, so words split
// exactly as on SQLite and nothing a user typed is ever parsed as tsquery syntax.
import { tokenize } from '../search-terms.js';
import type { SearchTerm } from '../storage.js';

// tsvector limits: positions stop at 16,383, a lexeme is at most 2,047 bytes, at most 256 positions per lexeme, and
// the whole vector under 1 MB. A body may be 5 MB: past the budget, new words are left out rather than the event refused.
const MAX_POSITION = 16_383;
const MAX_LEXEME_BYTES = 2_047;
const MAX_POSITIONS = 256;
const VECTOR_BUDGET_BYTES = 900_000;
// Per lexeme: its entry (4), alignment (≤1) and position count (2); then 2 bytes per position.
const LEXEME_OVERHEAD_BYTES = 7;
const POSITION_BYTES = 2;

// Tokens are letters and digits only; quoting is belt and braces for the tsvector/tsquery literal syntax.
const quote = (token: string) => `'${token.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/** The tsvector literal for a text (cast with ::tsvector), or null when it has no word. */
export function toTsvector(text: string): string | null {
  const positions = new Map<string, number[]>();
  let bytes = 0;
  tokenize(text).forEach((token, index) => {
    const position = Math.min(index + 1, MAX_POSITION);
    const seen = positions.get(token);
    if (seen) {
      if (seen.length < MAX_POSITIONS && seen.at(-1) !== position && bytes + POSITION_BYTES <= VECTOR_BUDGET_BYTES) {
        seen.push(position);
        bytes += POSITION_BYTES;
      }
      return;
    }
    const size = Buffer.byteLength(token) + LEXEME_OVERHEAD_BYTES + POSITION_BYTES;
    if (size - LEXEME_OVERHEAD_BYTES - POSITION_BYTES > MAX_LEXEME_BYTES || bytes + size > VECTOR_BUDGET_BYTES) return;
    positions.set(token, [position]);
    bytes += size;
  });
  if (positions.size === 0) return null;
  return [...positions].map(([token, at]) => `${quote(token)}:${at.join(',')}`).join(' ');
}

/** The tsquery literal for search terms (cast with ::tsquery): a phrase's words adjacent, a prefix on its last word, every term required. */
export function toTsquery(terms: SearchTerm[]): string {
  return terms
    .map((term) => {
      const words = term.tokens.map(quote);
      if (term.prefix) words[words.length - 1] += ':*';
      return words.length === 1 ? words[0]! : `(${words.join(' <-> ')})`;
    })
    .join(' & ');
}
