// What queries need of a payload (searchable text, tags, first-response time): pulled out once at ingest so queries never parse bodies.
import { isEventType, payloadSchemas, type EventType, type FeedbackPayload, type Message, type OfflineMessagePayload, type Payload, type TranscriptPayload } from './index.js';
import { decodeStored } from './stored.js';
import { parseJson } from '../json.js';

export type Searchable = {
  /** Searchable text, one field a line; empty when the payload has nothing worth searching. */
  text: string;
  /** A transcript's extraData words, lower-cased and unique. */
  tags: string[];
  /** A transcript's seconds from the first visitor message to the first agent answer, when it has both. */
  firstResponseSeconds?: number;
};

/** Seconds from the first visitor message to the first agent message after it, by Slack ts; undefined without both. */
export function firstResponseSeconds(messages: Message[]): number | undefined {
  const timed = messages
    .map((message) => ({ at: Number.parseFloat(message.ts ?? ''), visitor: message.isVisitorMsg === true }))
    .filter((message) => Number.isFinite(message.at))
    .sort((a, b) => a.at - b.at);
  const asked = timed.find((message) => message.visitor);
  const answered = asked && timed.find((message) => !message.visitor && message.at >= asked.at);
  return asked && answered ? Math.round((answered.at - asked.at) * 1000) / 1000 : undefined;
}

const present = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** Lower-cases and de-duplicates extraData words; exported so the tag filter normalises input the same way. */
export function normaliseTag(tag: string): string {
  return tag.trim().toLowerCase();
}

export function searchableOf(type: EventType, payload: Payload): Searchable {
  const parts: Array<string | null | undefined> = [payload.visitor?.name, payload.visitor?.email];
  let tags: string[] = [];
  let firstResponse: number | undefined;
  switch (type) {
    case 'transcript': {
      const p = payload as TranscriptPayload;
      const texts = (p.messages ?? []).map((message) => message.text).filter(present);
      // textBody repeats the messages; it is indexed only when there are no message texts to index.
      parts.push(p.visitorName, p.visitorEmail, p.chatFeedback, ...(texts.length > 0 ? texts : [p.textBody]));
      tags = [...new Set((p.extraData ?? []).map(normaliseTag).filter((tag) => tag !== ''))];
      firstResponse = firstResponseSeconds(p.messages ?? []);
      break;
    }
    case 'offline-message': {
      const p = payload as OfflineMessagePayload;
      parts.push(p.name, p.email, p.subject, p.message);
      break;
    }
    default: {
      const p = payload as FeedbackPayload;
      parts.push(p.message, type === 'feedback' ? p.chatFeedback : undefined);
    }
  }
  const text = [...new Set(parts.filter(present).map((part) => part.trim()))].join('\n');
  return firstResponse === undefined ? { text, tags } : { text, tags, firstResponseSeconds: firstResponse };
}

/**
 * The search data ingest would extract from this body: the schema's output (as on arrival) through searchableOf. A
 * body today's schema no longer accepts still gets its text, from the stored-body decoder exports use.
 */
export function searchableOfRaw(type: string, raw: Buffer): Searchable {
  if (!isEventType(type)) return { text: '', tags: [] };
  let json: unknown;
  try {
    json = parseJson(raw.toString('utf8'));
  } catch {
    return { text: '', tags: [] };
  }
  const parsed = payloadSchemas[type].safeParse(json);
  if (parsed.success) return searchableOf(type, parsed.data);
  const stored = decodeStored(type, json);
  return stored ? searchableOf(type, stored.payload as Payload) : { text: '', tags: [] };
}
