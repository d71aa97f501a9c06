// /api/visitors/:key: erase everything stored about one visitor, for privacy requests.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { removedSchema } from './removed.js';

export const visitorRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.withTypeProvider<ZodTypeProvider>().delete(
    '/visitors/:key',
    {
      schema: {
        operationId: 'eraseVisitor',
        summary: "Erase a visitor's events and the rejected bodies that mention them",
        description:
          'The key is an email (case-insensitive) or a visitor UUID. Identifiers seen together on the same events are erased together: ' +
          'erasing an email also erases the events of the visitor UUIDs it appeared with, and their other emails. ' +
          'Full-text rows, tags and deliveries go with the events. Answers 200 with zero counts when nothing matched.',
        tags: ['erasure'],
        params: z.object({ key: z.string().trim().min(1).max(320).describe('visitor email or UUID') }),
        response: { 200: removedSchema },
      },
    },
    async (request) => {
      const removed = await ctx.storage.deleteVisitor(request.params.key);
      request.log.info({ removed }, 'visitor erased');
      return { removed };
    },
  );
};
