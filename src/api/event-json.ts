// How a stored event looks over the API: indexed fields up front, the validated payload in full.
import { z } from 'zod';
import { EVENT_TYPES, type Payload } from '../chatlio/index.js';
import { decodeStored } from '../chatlio/stored.js';
import { summarize } from '../chatlio/summary.js';
import { parseJson } from '../json.js';
import type { EventRow } from '../store/events.js';

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
  return decodeStored(row.type, json) ?? (json as Record<string, unknown>);
}

export function toEventJson(row: EventRow): EventJson {
  const payload = parsePayload(row);
  return {
    id: row.id,
    type: row.type,
    receivedAt: new Date(row.receivedAt).toISOString(),
    conversationUUID: row.conversationUUID,
    visitor: { uuid: row.visitorUUID, email: row.visitorEmail, name: row.visitorName },
    rating: row.rating,
    summary: summarize(row.type, payload as Payload),
    payload,
  };
}
