// Streams every matching event as NDJSON or CSV in keyset pages: memory stays flat whatever the row count.
import { Readable } from 'node:stream';
import type { EventFilter, EventRow, Storage } from '../store/storage.js';
import { eventJsonParts, toEventJsonText } from './event-json.js';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

// Each page is read in one short statement and released before the next, so no read transaction stays open while
// the client is slow (the WAL can checkpoint) and a paused download holds nothing but the last seq. Chunks are kept
// small so the strings die young instead of piling up in the old generation (peak RSS).
const PAGE_SIZE = 200;
const ROWS_PER_CHUNK = 25;

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
    const page = await storage.listEvents(filter, { before, limit: PAGE_SIZE });
    for (let start = 0; start < page.rows.length; start += ROWS_PER_CHUNK) {
      let chunk = '';
      for (const row of page.rows.slice(start, start + ROWS_PER_CHUNK)) chunk += format === 'csv' ? csvRow(row) : `${toEventJsonText(row)}\n`;
      yield chunk;
    }
    if (page.next === null) return;
    before = page.next;
  }
}

/** A byte stream of every event matching `filter`, newest first, as of when the export started. */
export function exportStream(storage: Pick<Storage, 'listEvents'>, filter: EventFilter, format: ExportFormat): Readable {
  return Readable.from(lines(storage, filter, format), { objectMode: false, highWaterMark: 64 * 1024 });
}
