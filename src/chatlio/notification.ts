// The one documented shape Chatlio shares between "conversation started", "unanswered" and "feedback".
import { text, visitorSchema } from './parts.js';

export const notificationShape = {
  visitor: visitorSchema.nullish(),
  message: text,
  conversationUUID: text,
  channelId: text,
  slackChannelName: text,
  slackChannelId: text,
};
