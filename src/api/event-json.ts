// How a stored event looks over the API: indexed fields up front, the validated payload in full.
import { z } from 'zod';
import { EVENT_TYPES, type Payload } from '../chatlio/index.js';
import { decodeStored } from '../chatlio/stored.js';
import { summarize } from '../chatlio/summary.js';
import { parseJson } from '../json.js';
import type { EventRow } from '../store/storage.js';

export const eventJsonSchema = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  receivedAt: z.string().describe('ISO 8601, when chatlio-relay received it'),
  conversationUUID: z.string().nullable(),
  visitor: z.object({ uuid: z.string().nullable(), email: z.string().nullable(), name: z.string().nullable() }),
  rating: z.enum(['up', 'down']).nullable(),
  summary: z.string().describe('one line saying who did what, for people'),
  payload: z.record(z.string(), z.unknown()).describe('the body as received, parsed; JSON-in-string fields decoded'),
});

export type EventJson = z.infer<typeof eventJsonSchema>;

/** The stored bytes passed the schema when they arrived: only its transforms are applied again (see decodeStored). */
export function parsePayload(row: Pick<EventRow, 'type' | 'raw'>): Record<string, unknown> {
  const json = parseJson(row.raw.toString('utf8'));
  return decodeStored(row.type, json)?.payload ?? (json as Record<string, unknown>);
}

export function toEventJson(row: EventRow): EventJson {
  const payload = parsePayload(row);
  return { ...eventHead(row, payload), payload };
}

// Text that secure-json-parse might have changed (a __proto__ or constructor key, plain or with its letters
// \u-escaped), or that is not one line. Other escapes (Go writes < as \u003c) keep the fast path.
const NOT_VERBATIM = /[\r\n]|__proto__|constructor|\\u00(?:5[fF]|6[3eEfF]|7[0-5])/;

/**
 * The event without its payload, and the payload as JSON text, for lists and exports. When the stored body is one
 * line and parsing changed nothing, it already spells the payload, so it is used as is instead of serialised again:
 * the biggest cost of a page. (A body with a repeated key keeps both copies; parsers that let the last one win, as
 * JavaScript's does, read it as the parsed payload has it.)
 */
export function eventJsonParts(row: EventRow): { head: Omit<EventJson, 'payload'>; payloadText: string } {
  const text = row.raw.toString('utf8');
  const json = parseJson(text);
  const stored = decodeStored(row.type, json);
  const payload = stored?.payload ?? (json as Record<string, unknown>);
  const head = eventHead(row, payload);
  const verbatim = stored !== undefined && !stored.decoded && !NOT_VERBATIM.test(text);
  return { head, payloadText: verbatim ? text.trim() : JSON.stringify(payload) };
}

/** The same JSON as toEventJson gives, as one line of text. */
export function toEventJsonText(row: EventRow): string {
  const { head, payloadText } = eventJsonParts(row);
  return `${JSON.stringify(head).slice(0, -1)},"payload":${payloadText}}`;
}

function eventHead(row: EventRow, payload: Record<string, unknown>): Omit<EventJson, 'payload'> {
  return {
    id: row.id,
    type: row.type,
    receivedAt: new Date(row.receivedAt).toISOString(),
    conversationUUID: row.conversationUUID,
    visitor: { uuid: row.visitorUUID, email: row.visitorEmail, name: row.visitorName },
    rating: row.rating,
    summary: summarize(row.type, payload as Payload),
  };
}
