// The five Chatlio webhook types, their schemas, and the identity fields every stored event is indexed by.
import type { z } from 'zod';
import { transcriptSchema, type TranscriptPayload } from './transcript.js';
import { offlineMessageSchema, type OfflineMessagePayload } from './offline-message.js';
import { conversationStartedSchema, type ConversationStartedPayload } from './conversation-started.js';
import { unansweredSchema, type UnansweredPayload } from './unanswered.js';
import { feedbackSchema, type FeedbackPayload } from './feedback.js';

export type { TranscriptPayload, OfflineMessagePayload, ConversationStartedPayload, UnansweredPayload, FeedbackPayload };
export type { Visitor, Message } from './parts.js';

export const EVENT_TYPES = ['transcript', 'offline-message', 'conversation-started', 'unanswered', 'feedback'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type PayloadByType = {
  transcript: TranscriptPayload;
  'offline-message': OfflineMessagePayload;
  'conversation-started': ConversationStartedPayload;
  unanswered: UnansweredPayload;
  feedback: FeedbackPayload;
};
export type Payload = PayloadByType[EventType];

export const payloadSchemas: { [T in EventType]: z.ZodType<PayloadByType[T]> } = {
  transcript: transcriptSchema,
  'offline-message': offlineMessageSchema,
  'conversation-started': conversationStartedSchema,
  unanswered: unansweredSchema,
  feedback: feedbackSchema,
};

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** The fields queries filter on, pulled out of a validated payload; "" becomes null. */
export type EventIdentity = {
  conversationUUID: string | null;
  visitorUUID: string | null;
  visitorEmail: string | null;
  visitorName: string | null;
  rating: 'up' | 'down' | null;
};

const orNull = (...values: Array<string | null | undefined>): string | null => {
  for (const value of values) if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return null;
};

function ratingOf(value: string | null | undefined): 'up' | 'down' | null {
  const rating = value?.trim().toLowerCase();
  return rating === 'up' || rating === 'down' ? rating : null;
}

export function identify(type: EventType, payload: Payload): EventIdentity {
  const visitor = payload.visitor ?? undefined;
  const common = { visitorUUID: orNull(visitor?.UUID) };
  switch (type) {
    case 'transcript': {
      const p = payload as TranscriptPayload;
      return {
        ...common,
        conversationUUID: orNull(p.conversationUUID),
        visitorEmail: orNull(p.visitorEmail, visitor?.email)?.toLowerCase() ?? null,
        visitorName: orNull(p.visitorName, visitor?.name),
        rating: ratingOf(p.chatRating),
      };
    }
    case 'offline-message': {
      const p = payload as OfflineMessagePayload;
      return {
        ...common,
        conversationUUID: null,
        visitorEmail: orNull(p.email, visitor?.email)?.toLowerCase() ?? null,
        visitorName: orNull(p.name, visitor?.name),
        rating: null,
      };
    }
    default: {
      const p = payload as FeedbackPayload;
      return {
        ...common,
        conversationUUID: orNull(p.conversationUUID),
        visitorEmail: orNull(visitor?.email)?.toLowerCase() ?? null,
        visitorName: orNull(visitor?.name),
        rating: type === 'feedback' ? ratingOf(p.chatRating) : null,
      };
    }
  }
}
