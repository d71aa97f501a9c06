// The "Exporting offline messages" webhook: a visitor wrote while no agent was online.
import { z } from 'zod';
import { text, visitorSchema } from './parts.js';

export const offlineMessageSchema = z.looseObject({
  name: text,
  email: text,
  emailPretty: text,
  // Undocumented, but read by an older public consumer.
  subject: text,
  message: text,
  visitor: visitorSchema.nullish(),
});

export type OfflineMessagePayload = z.infer<typeof offlineMessageSchema>;
