// What the pages show of a stored event, read from its raw bytes: summary, tags, messages, the visitor's details.
import type { Payload } from '../chatlio/index.js';
import { decodeStored } from '../chatlio/stored.js';
import { summarize } from '../chatlio/summary.js';
import { normaliseTag } from '../chatlio/searchable.js';
import { parseJson } from '../json.js';
import type { EventRow } from '../store/storage.js';

export type ChatMessage = { text: string; from: string; visitor: boolean; at: number | null };

export type VisitorDetails = {
  name: string | null;
  email: string | null;
  uuid: string | null;
  currentPage: string | null;
  referrer: string | null;
  location: string | null;
  userAgent: string | null;
  ipAddress: string | null;
};

export type EventView = {
  payload: Record<string, unknown>;
  summary: string;
  tags: string[];
  messages: ChatMessage[];
  visitor: VisitorDetails;
  hasHtmlBody: boolean;
};

const str = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The payload as the API shows it; a body that is somehow not an object still renders (as an empty payload). */
export function payloadOf(row: Pick<EventRow, 'type' | 'raw'>): Record<string, unknown> {
  try {
    const json = parseJson(row.raw.toString('utf8'));
    return decodeStored(row.type, json)?.payload ?? {};
  } catch {
    return {};
  }
}

/** When a message was sent: sentAt (RFC 3339), else the Slack ts (seconds). */
function messageTime(message: Record<string, unknown>): number | null {
  const sentAt = str(message.sentAt);
  const parsed = sentAt ? Date.parse(sentAt) : Number.NaN;
  if (Number.isFinite(parsed)) return parsed;
  const ts = Number.parseFloat(str(message.ts) ?? '');
  return Number.isFinite(ts) ? Math.round(ts * 1000) : null;
}

export function viewEvent(row: EventRow): EventView {
  const payload = payloadOf(row);
  const visitor = isObject(payload.visitor) ? payload.visitor : {};
  const messages = (Array.isArray(payload.messages) ? payload.messages : []).filter(isObject).map((message) => {
    const fromVisitor = message.isVisitorMsg === true;
    return {
      text: typeof message.text === 'string' ? message.text : '',
      from: str(message.username) ?? (fromVisitor ? 'Visitor' : 'Agent'),
      visitor: fromVisitor,
      at: messageTime(message),
    };
  });
  const tags = row.type === 'transcript' && Array.isArray(payload.extraData)
    ? [...new Set(payload.extraData.filter((tag): tag is string => typeof tag === 'string').map(normaliseTag).filter((tag) => tag !== ''))]
    : [];
  return {
    payload,
    summary: summarize(row.type, payload as Payload),
    tags,
    messages,
    visitor: {
      name: row.visitorName ?? str(visitor.name),
      email: row.visitorEmail ?? str(visitor.email),
      uuid: row.visitorUUID,
      currentPage: str(visitor.currentPage),
      referrer: str(visitor.referrerURL),
      location: str(visitor.location),
      userAgent: str(visitor.userAgent),
      ipAddress: str(visitor.IPAddress),
    },
    hasHtmlBody: str(payload.htmlBody) !== null,
  };
}

/** Only http(s) URLs become links; anything else (javascript:, data:) is shown as text. */
export function safeHref(value: string | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
