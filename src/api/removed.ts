// The answer to an erasure: how many rows of each kind went.
import { z } from 'zod';

export const removedSchema = z.object({
  removed: z.object({
    events: z.number().int().describe('events removed, with their full-text rows, tags and deliveries'),
    rejections: z.number().int().describe('rejected bodies removed because they mention the visitor'),
  }),
});
