// The "Visitor left feedback after a chat" webhook: the shared sample; its extra fields are undocumented and kept.
import { z } from 'zod';
import { text } from './parts.js';
import { notificationShape } from './notification.js';

export const feedbackSchema = z.looseObject({
  ...notificationShape,
  // Not in the shared sample; named as the transcript names them, in case Chatlio sends them here too.
  chatRating: text,
  chatFeedback: text,
});

export type FeedbackPayload = z.infer<typeof feedbackSchema>;
