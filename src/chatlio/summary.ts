// A one-line, human description of an event (who, what), for lists, exports and notifications.
import type { EventType, FeedbackPayload, OfflineMessagePayload, Payload, TranscriptPayload } from './index.js';
import { cutText } from '../text.js';

const MAX_LENGTH = 160;

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const present = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

const cut = (text: string, max: number) => cutText(oneLine(text), max);

function who(name: string | null | undefined, email: string | null | undefined, fallback: string): string {
  if (present(name) && present(email)) return `${oneLine(name)} <${oneLine(email)}>`;
  if (present(name)) return oneLine(name);
  if (present(email)) return oneLine(email);
  return fallback;
}

const quoted = (text: string | null | undefined, room = 80) => (present(text) ? `: "${cut(text, room)}"` : '');

export function summarize(type: EventType, payload: Payload): string {
  const visitor = payload.visitor ?? undefined;
  const anonymous = present(visitor?.handle) ? oneLine(visitor.handle) : 'a visitor';
  let line: string;
  switch (type) {
    case 'transcript': {
      const p = payload as TranscriptPayload;
      const person = who(p.visitorName ?? visitor?.name, p.visitorEmail || visitor?.email, anonymous);
      const count = Array.isArray(p.messages) ? p.messages.length : 0;
      const agent = present(p.agentName) ? ` with ${oneLine(p.agentName)}` : '';
      const rating = present(p.chatRating) ? `, rated ${oneLine(p.chatRating)}` : '';
      const tags = Array.isArray(p.extraData) && p.extraData.length > 0 ? ` [${p.extraData.join(' ')}]` : '';
      line = `Chat transcript: ${person}${agent}, ${count} message${count === 1 ? '' : 's'}${rating}${tags}`;
      break;
    }
    case 'offline-message': {
      const p = payload as OfflineMessagePayload;
      const person = who(p.name ?? visitor?.name, p.email || visitor?.email, anonymous);
      line = `Offline message from ${person}${quoted(present(p.subject) ? p.subject : p.message)}`;
      break;
    }
    case 'conversation-started':
      line = `${who(visitor?.name, visitor?.email, anonymous)} started a chat${quoted(payload.message as string | null | undefined)}`;
      break;
    case 'unanswered':
      line = `${who(visitor?.name, visitor?.email, anonymous)} got no answer in time${quoted(payload.message as string | null | undefined)}`;
      break;
    case 'feedback': {
      const p = payload as FeedbackPayload;
      const rating = present(p.chatRating) ? ` (rated ${oneLine(p.chatRating)})` : '';
      line = `${who(visitor?.name, visitor?.email, anonymous)} left feedback${rating}${quoted(p.chatFeedback ?? p.message)}`;
      break;
    }
  }
  return cut(line, MAX_LENGTH);
}
