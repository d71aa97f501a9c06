// What of a payload full-text search sees, and its tags: pulled out once at ingest so queries never parse bodies.
import type { EventType, FeedbackPayload, OfflineMessagePayload, Payload, TranscriptPayload } from './index.js';

export type Searchable = {
  /** Searchable text, one field a line; empty when the payload has nothing worth searching. */
  text: string;
  /** A transcript's extraData words, lower-cased and unique. */
  tags: string[];
};

const present = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** Lower-cases and de-duplicates extraData words; exported so the tag filter normalises input the same way. */
export function normaliseTag(tag: string): string {
  return tag.trim().toLowerCase();
}

export function searchableOf(type: EventType, payload: Payload): Searchable {
  const parts: Array<string | null | undefined> = [payload.visitor?.name, payload.visitor?.email];
  let tags: string[] = [];
  switch (type) {
    case 'transcript': {
      const p = payload as TranscriptPayload;
      const texts = (p.messages ?? []).map((message) => message.text).filter(present);
      // textBody repeats the messages; it is indexed only when there are no message texts to index.
      parts.push(p.visitorName, p.visitorEmail, p.chatFeedback, ...(texts.length > 0 ? texts : [p.textBody]));
      tags = [...new Set((p.extraData ?? []).map(normaliseTag).filter((tag) => tag !== ''))];
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
  return { text, tags };
}
