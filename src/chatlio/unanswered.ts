// The "Visitor did not get an answer in time" webhook.
import { z } from 'zod';
import { notificationShape } from './notification.js';

export const unansweredSchema = z.looseObject(notificationShape);

export type UnansweredPayload = z.infer<typeof unansweredSchema>;
