// The "New conversation has started" webhook.
import { z } from 'zod';
import { notificationShape } from './notification.js';

export const conversationStartedSchema = z.looseObject(notificationShape);

export type ConversationStartedPayload = z.infer<typeof conversationStartedSchema>;
