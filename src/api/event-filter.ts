// The query parameters that filter events (shared by the list and the export), and the opaque page cursor.
import { z } from 'zod';
import { EVENT_TYPES } from '../chatlio/index.js';
import { normaliseTag } from '../chatlio/searchable.js';
import { HttpProblem } from '../errors.js';
import { SearchQueryError, parseSearchQuery } from '../store/search-terms.js';
import { DELIVERY_STATUSES, type EventFilter } from '../store/storage.js';

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((value) => Date.parse(value))
  .describe('ISO 8601 date-time with offset (2026-11-01T09:00:00Z) or a date (2026-11-01, midnight UTC)');

const typeList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')).map((part) => part.trim()))
  .pipe(z.array(z.enum(EVENT_TYPES)).min(1));

export const eventFilterQuery = {
  type: typeList
    .optional()
    .describe('one or several event types: repeat the parameter or separate with commas'),
  conversation: z.string().min(1).max(200).optional().describe('a conversationUUID'),
  visitor: z.string().min(1).max(320).optional().describe('a visitor UUID or email (case-insensitive)'),
  rating: z.enum(['up', 'down']).optional(),
  tag: z.string().min(1).max(200).optional().describe('a word typed after `/chatlio send-to-webhook` (case-insensitive)'),
  since: instant.optional().describe('received at or after this instant (ISO 8601)'),
  until: instant.optional().describe('received before this instant (ISO 8601)'),
  q: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe('full text over messages, transcripts, offline messages, feedback and visitor name/email; "a phrase" and prefix* work'),
  deliveryStatus: z
    .enum(DELIVERY_STATUSES)
    .optional()
    .describe('has a delivery in this status (dead: given up; failed: will retry), to any handler or to `handler`'),
  handler: z.string().min(1).max(200).optional().describe('with deliveryStatus: only deliveries to this handler (a name from the config)'),
};

type FilterQuery = z.output<z.ZodObject<typeof eventFilterQuery>>;

export function toEventFilter(query: FilterQuery): EventFilter {
  const filter: EventFilter = {};
  if (query.type) filter.types = [...new Set(query.type)];
  if (query.conversation !== undefined) filter.conversation = query.conversation;
  if (query.visitor !== undefined) filter.visitor = query.visitor.trim();
  if (query.rating !== undefined) filter.rating = query.rating;
  if (query.tag !== undefined) filter.tag = normaliseTag(query.tag);
  if (query.since !== undefined) filter.since = query.since;
  if (query.until !== undefined) filter.until = query.until;
  if (query.deliveryStatus !== undefined) {
    filter.delivery = query.handler === undefined ? { status: query.deliveryStatus } : { status: query.deliveryStatus, handler: query.handler };
  } else if (query.handler !== undefined) {
    throw badParameter('handler', 'only together with deliveryStatus');
  }
  if (query.q !== undefined) {
    try {
      filter.search = parseSearchQuery(query.q);
    } catch (error) {
      if (error instanceof SearchQueryError) throw badParameter('q', error.message);
      throw error;
    }
  }
  return filter;
}

export function badParameter(path: string, message: string): HttpProblem {
  return new HttpProblem(400, `invalid querystring: ${path}`, { errors: [{ path, message }] });
}

// A version prefix lets the cursor's meaning change later without old cursors being misread.
const CURSOR_VERSION = 'v1.';

export function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_VERSION}${seq}`).toString('base64url');
}

/** The seq a cursor points past; a 400 naming `cursor` if it is not one of ours. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = text.startsWith(CURSOR_VERSION) ? Number(text.slice(CURSOR_VERSION.length)) : Number.NaN;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || !Number.isSafeInteger(seq) || seq < 1) {
    throw badParameter('cursor', 'not a cursor this API returned');
  }
  return seq;
}
