// /api/conversations/:uuid: one chat's whole story, its events oldest first and one timeline merged from its transcripts.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { Message } from '../chatlio/index.js';
import { HttpProblem } from '../errors.js';
import { eventJsonSchema, toEventJson, type EventJson } from './event-json.js';

const timelineEntrySchema = z.object({
  ts: z.string().nullable().describe("Slack's message timestamp, which is also its id"),
  sentAt: z.string().nullable(),
  text: z.string().nullable(),
  username: z.string().nullable(),
  userId: z.string().nullable(),
  fromVisitor: z.boolean().nullable(),
  eventId: z.string().describe('the transcript this message was first seen in'),
});

type TimelineEntry = z.infer<typeof timelineEntrySchema>;

const conversationSchema = z.object({
  conversationUUID: z.string(),
  visitor: z.object({ uuid: z.string().nullable(), email: z.string().nullable(), name: z.string().nullable() }),
  events: z.array(eventJsonSchema).describe('every event of the conversation, oldest first'),
  timeline: z.array(timelineEntrySchema).describe('messages of all its transcripts, each once, in the order sent'),
});

const orNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * A chat can produce several transcripts (`/chatlio send-to-webhook` mid-chat, then the end), each repeating the
 * messages so far: messages are merged by their Slack ts, which identifies a message, and sorted by it.
 */
export function mergeTimeline(events: EventJson[]): TimelineEntry[] {
  const byKey = new Map<string, TimelineEntry>();
  for (const event of events) {
    if (event.type !== 'transcript' || !Array.isArray(event.payload.messages)) continue;
    for (const message of event.payload.messages as Message[]) {
      const ts = orNull(message.ts);
      const key = ts ?? JSON.stringify(message);
      if (byKey.has(key)) continue;
      byKey.set(key, {
        ts,
        sentAt: orNull(message.sentAt),
        text: orNull(message.text),
        username: orNull(message.username),
        userId: orNull(message.userId),
        fromVisitor: typeof message.isVisitorMsg === 'boolean' ? message.isVisitorMsg : null,
        eventId: event.id,
      });
    }
  }
  const order = (entry: TimelineEntry) => (entry.ts === null ? Number.POSITIVE_INFINITY : Number.parseFloat(entry.ts));
  // Array.prototype.sort is stable: messages without a ts keep their place after the timed ones.
  return [...byKey.values()].sort((a, b) => order(a) - order(b) || 0);
}

export const conversationRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/conversations/:uuid',
    {
      schema: {
        operationId: 'getConversation',
        summary: "A conversation's events and merged message timeline",
        tags: ['conversations'],
        params: z.object({ uuid: z.string().min(1).max(200).describe('the conversationUUID') }),
        response: { 200: conversationSchema },
      },
    },
    async (request) => {
      const events = (await ctx.storage.conversation(request.params.uuid)).map(toEventJson);
      if (events.length === 0) throw new HttpProblem(404, `no events for conversation ${request.params.uuid}`);
      const latest = (pick: (event: EventJson) => string | null) => events.map(pick).filter((value) => value !== null).at(-1) ?? null;
      return {
        conversationUUID: request.params.uuid,
        visitor: {
          uuid: latest((event) => event.visitor.uuid),
          email: latest((event) => event.visitor.email),
          name: latest((event) => event.visitor.name),
        },
        events,
        timeline: mergeTimeline(events),
      };
    },
  );
};
