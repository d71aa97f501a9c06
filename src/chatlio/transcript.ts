// The "Exporting chat transcripts" webhook: sent when a chat ends or on `/chatlio send-to-webhook`.
import { z } from 'zod';
import { jsonString, messageSchema, text, visitorSchema } from './parts.js';

export const transcriptSchema = z.looseObject({
  agentEmail: text,
  agentName: text,
  archiveUrl: text,
  // Words typed after `/chatlio send-to-webhook`: Chatlio's way of tagging a chat.
  extraData: z.array(z.string()).nullish(),
  channelId: text,
  channelName: text,
  conversationUUID: text,
  endedAt: text,
  chatRating: text,
  chatFeedback: text,
  htmlBody: text,
  textBody: text,
  messages: z.array(messageSchema).nullish(),
  startedAt: text,
  visitorEmail: text,
  replyToEmail: text,
  visitorName: text,
  // An object in Chatlio's sample; a public consumer of real transcripts reads it as a string.
  visitorTraits: z.union([z.record(z.string(), z.unknown()), jsonString]).optional(),
  visitor: visitorSchema.nullish(),
  slackTeamID: text,
});

export type TranscriptPayload = z.infer<typeof transcriptSchema>;
