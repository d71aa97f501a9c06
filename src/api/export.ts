// Streams every matching event as NDJSON or CSV in keyset pages: memory stays flat whatever the row count.
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import type { EventFilter, EventRow, Storage } from '../store/storage.js';
import { eventJsonParts, toEventJsonText } from './event-json.js';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

// Each page is read in one short statement and released before the next, so no read transaction stays open while
// the client is slow (the WAL can checkpoint) and a paused download holds nothing but the last seq. A page is capped
// in bytes as well as rows, so a run of large events holds one of them at a time, not PAGE_ROWS.
const PAGE_ROWS = 200;
export const PAGE_BYTES = 4 * 1024 * 1024;
// Rows are written in chunks of about this many characters: small enough that the strings die young instead of
// piling up in the old generation (peak RSS), large enough that a chunk is not a write per row.
const CHUNK_CHARS = 16 * 1024;

export const CSV_COLUMNS = [
  'id',
  'type',
  'receivedAt',
  'conversationUUID',
  'visitorUUID',
  'visitorEmail',
  'visitorName',
  'rating',
  'summary',
  'payload',
] as const;

// Spreadsheet programs run a cell starting with one of these as a formula (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: defused against formulas, quoted when it holds a separator, quote or line break. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvRow(row: EventRow): string {
  const { head, payloadText } = eventJsonParts(row);
  const cells = [
    head.id,
    head.type,
    head.receivedAt,
    head.conversationUUID,
    head.visitor.uuid,
    head.visitor.email,
    head.visitor.name,
    head.rating,
    head.summary,
    payloadText,
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}

async function* lines(storage: Pick<Storage, 'listEvents'>, filter: EventFilter, format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let before: number | undefined;
  for (;;) {
    const page = await storage.listEvents(filter, { before, limit: PAGE_ROWS, maxBytes: PAGE_BYTES });
    // Rows leave the page as they are written, so a body is garbage once its line is out.
    const rows = page.rows;
    let chunk = '';
    for (let row = rows.shift(); row !== undefined; row = rows.shift()) {
      chunk += format === 'csv' ? csvRow(row) : `${toEventJsonText(row)}\n`;
      if (chunk.length >= CHUNK_CHARS || rows.length === 0) {
        yield chunk;
        chunk = '';
        // With a fast reader every write completes at once and the next read is a resolved promise: without a turn of
        // the event loop after each chunk, the whole export would run as one chain of microtasks, and no webhook or
        // health check would be answered until it ended.
        await setImmediate();
      }
    }
    if (page.next === null) return;
    before = page.next;
  }
}

/**
 * A byte stream of every event matching `filter`, newest first, as of when the export started. It is piped to the
 * response, so the next page is read only when the socket has taken the previous one (backpressure); a read error
 * destroys the stream, and Fastify then destroys the response: the download ends as an error, never cleanly.
 */
export function exportStream(storage: Pick<Storage, 'listEvents'>, filter: EventFilter, format: ExportFormat): Readable {
  return Readable.from(lines(storage, filter, format), { objectMode: false, highWaterMark: 64 * 1024 });
}
