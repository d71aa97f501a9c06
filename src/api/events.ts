// /api/events: one event as JSON, or its exact received bytes.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { HttpProblem } from '../errors.js';
import { parseEventId, type EventRow } from '../store/events.js';
import { eventJsonSchema, toEventJson } from './event-json.js';
import { deliveryWithAttemptsSchema, eventDeliveries } from './deliveries.js';

const params = z.object({ id: z.string().describe('event id, e.g. evt_000000001a') });

export function findEvent(ctx: AppContext, id: string): EventRow {
  const seq = parseEventId(id);
  const row = seq === undefined ? undefined : ctx.events.get(seq);
  if (!row) throw new HttpProblem(404, `no event with id ${id}`);
  return row;
}

export const eventRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/events/:id',
    {
      schema: {
        summary: 'One stored event, with its deliveries and their attempts',
        tags: ['events'],
        params,
        response: { 200: eventJsonSchema.extend({ deliveries: z.array(deliveryWithAttemptsSchema) }) },
      },
    },
    async (request) => {
      const row = findEvent(ctx, request.params.id);
      return { ...toEventJson(row), deliveries: eventDeliveries(ctx, row.seq) };
    },
  );

  routes.get(
    '/events/:id/raw',
    { schema: { summary: 'The exact bytes received for an event', tags: ['events'], params } },
    async (request, reply) => reply.type('application/json').send(findEvent(ctx, request.params.id).raw),
  );
};
