// Builds small Chatlio payloads and stores them through the ingest pipeline with chosen arrival times.
import { payloadSchemas, type EventType } from '../../src/chatlio/index.js';
import { ingestEvent } from '../../src/ingest/pipeline.js';
import type { AppContext } from '../../src/context.js';

export type Seeded = { id: string; seq: number; type: EventType; receivedAt: number };

export async function store(ctx: AppContext, type: EventType, body: Record<string, unknown>, receivedAt = Date.now()): Promise<Seeded> {
  const raw = Buffer.from(JSON.stringify(body));
  const payload = payloadSchemas[type].parse(body);
  const { id, seq } = await ingestEvent(ctx, { type, raw, payload, receivedAt });
  return { id, seq, type, receivedAt };
}

export const visitor = (uuid: string, email = '', name = '') => ({ UUID: uuid, email, name, handle: `handle-${uuid.slice(0, 4)}` });

export function transcript(options: {
  conversation: string;
  visitor: ReturnType<typeof visitor>;
  texts?: string[];
  rating?: string;
  feedback?: string;
  tags?: string[];
  textBody?: string;
}) {
  return {
    conversationUUID: options.conversation,
    visitorEmail: options.visitor.email,
    visitorName: options.visitor.name,
    chatRating: options.rating ?? '',
    chatFeedback: options.feedback ?? '',
    extraData: options.tags ?? [],
    textBody: options.textBody ?? (options.texts ?? []).join('\n'),
    messages: (options.texts ?? []).map((text, index) => ({
      text,
      ts: `${1700000000 + index * 30}.00000${index}`,
      userId: index % 2 === 0 ? '' : 'U0AGENT',
      username: index % 2 === 0 ? 'visitor' : 'Agent',
      isVisitorMsg: index % 2 === 0,
    })),
    visitor: options.visitor,
  };
}

export const notification = (conversation: string, who: ReturnType<typeof visitor>, message = '') => ({
  conversationUUID: conversation,
  message,
  visitor: who,
});

export const offlineMessage = (who: ReturnType<typeof visitor>, subject: string, message: string) => ({
  name: who.name,
  email: who.email,
  subject,
  message,
  visitor: who,
});
