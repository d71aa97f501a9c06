// /api/deliveries and /api/events/:id/redeliver: the outbox as JSON, and putting deliveries back to pending.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { HttpProblem } from '../errors.js';
import { DELIVERY_STATUSES, type Attempt, type Delivery } from '../store/storage.js';
import { findEvent } from './events.js';
import { parsePayload } from './event-json.js';
import { eventFilterQuery, badParameter } from './event-filter.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const attemptJsonSchema = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number().int().nullable(),
  outcome: z.enum(['succeeded', 'failed', 'interrupted']).nullable().describe('null while the attempt runs'),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  response: z.string().nullable().describe("the remote's answer or the command's output, cut to 4 KB"),
});

export const deliveryJsonSchema = z.object({
  id: z.string(),
  eventId: z.string().nullable().describe("the event delivered; null for an alert's notification"),
  alertId: z.number().int().nullable().describe('the alert this notification is about (GET /api/alerts); null for an event delivery'),
  handler: z.string(),
  status: z.enum(DELIVERY_STATUSES).describe('failed: the last attempt failed and a retry is scheduled at nextAttemptAt'),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  externalId: z.string().nullable().describe('what the remote created, e.g. the Zendesk ticket id'),
  cancelledBy: z.string().nullable().describe('the event that cancelled this escalation'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const deliveryWithAttemptsSchema = deliveryJsonSchema.extend({ attemptLog: z.array(attemptJsonSchema) });

export function toAttemptJson(attempt: Attempt): z.infer<typeof attemptJsonSchema> {
  return { ...attempt, startedAt: new Date(attempt.startedAt).toISOString() };
}

export function toDeliveryJson(delivery: Delivery): z.infer<typeof deliveryJsonSchema> {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    alertId: delivery.alertId,
    handler: delivery.handler,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: iso(delivery.dueAt),
    lastError: delivery.lastError,
    lastStatusCode: delivery.lastStatusCode,
    externalId: delivery.externalId,
    cancelledBy: delivery.cancelledBy,
    createdAt: new Date(delivery.createdAt).toISOString(),
    updatedAt: new Date(delivery.updatedAt).toISOString(),
  };
}

const withAttempts = async (ctx: AppContext, delivery: Delivery) => ({
  ...toDeliveryJson(delivery),
  attemptLog: (await ctx.storage.attempts(delivery.seq)).map(toAttemptJson),
});

/** An event's deliveries with their attempts, for GET /api/events/:id. */
export async function eventDeliveries(ctx: AppContext, eventSeq: number) {
  return Promise.all((await ctx.storage.deliveriesForEvent(eventSeq)).map((delivery) => withAttempts(ctx, delivery)));
}

const encodeCursor = (seq: number) => Buffer.from(`d:${seq}`).toString('base64url');
function decodeCursor(cursor: string): number {
  const match = /^d:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new HttpProblem(400, 'invalid cursor: pass back nextCursor unchanged', { errors: [{ path: 'cursor', message: 'not a cursor' }] });
  return Number(match[1]);
}

const listQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  handler: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});

const REDELIVERABLE = ['dead', 'failed', 'cancelled', 'succeeded'] as const;

export const deliveryRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/deliveries',
    {
      schema: {
        operationId: 'listDeliveries',
        summary: 'Deliveries, newest first, keyset-paginated',
        tags: ['deliveries'],
        querystring: listQuery,
        response: { 200: z.object({ data: z.array(deliveryJsonSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { status, handler, limit, cursor } = request.query;
      const rows = await ctx.storage.listDeliveries({ status, handler }, { before: cursor ? decodeCursor(cursor) : undefined, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { data: page.map(toDeliveryJson), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.seq) : null };
    },
  );

  routes.get(
    '/deliveries/:id',
    {
      schema: {
        operationId: 'getDelivery',
        summary: 'One delivery with its attempts',
        tags: ['deliveries'],
        params: z.object({ id: z.string().describe('delivery id, e.g. dlv_0000000001') }),
        response: { 200: deliveryWithAttemptsSchema },
      },
    },
    async (request) => {
      const seq = ctx.storage.parseDeliveryId(request.params.id);
      const delivery = seq === undefined ? undefined : await ctx.storage.getDelivery(seq);
      if (!delivery) throw new HttpProblem(404, `no delivery with id ${request.params.id}`);
      return withAttempts(ctx, delivery);
    },
  );

  routes.post(
    '/deliveries/redeliver',
    {
      schema: {
        operationId: 'redeliverAll',
        summary: 'Put every delivery in a status (default dead) back to pending, due now',
        description: 'since and until narrow it to the deliveries of events received in that range, as on the events list.',
        tags: ['deliveries'],
        querystring: z.object({
          status: z.enum(REDELIVERABLE).default('dead'),
          handler: z.string().min(1).optional(),
          since: eventFilterQuery.since,
          until: eventFilterQuery.until,
        }),
        response: { 200: z.object({ redelivered: z.number().int() }) },
      },
    },
    async (request) => {
      const { since, until } = request.query;
      if (since !== undefined && until !== undefined && since >= until) throw badParameter('since', 'must be before until');
      const redelivered = await ctx.storage.redeliverAll(request.query);
      request.log.info({ redelivered, ...request.query }, 'bulk redelivery');
      return { redelivered };
    },
  );

  routes.post(
    '/events/:id/redeliver',
    {
      schema: {
        operationId: 'redeliverEvent',
        summary: "Deliver an event again to all its handlers, or to one (?handler=), keeping the attempts so far",
        tags: ['deliveries'],
        params: z.object({ id: z.string() }),
        querystring: z.object({ handler: z.string().min(1).optional() }),
        response: { 200: z.object({ data: z.array(deliveryJsonSchema) }) },
      },
    },
    async (request) => {
      const event = await findEvent(ctx, request.params.id);
      const only = request.query.handler;
      const existing = (await ctx.storage.deliveriesForEvent(event.seq)).map((delivery) => delivery.handler);
      if (only !== undefined && !ctx.dispatch?.handler(only) && !existing.includes(only)) {
        throw new HttpProblem(404, `no handler named ${only} in the config file`, { errors: [{ path: 'handler', message: 'unknown handler' }] });
      }
      // A handler added to the config after the event arrived gets its first delivery now.
      const create =
        ctx.dispatch?.missing(
          { type: event.type, payload: parsePayload(event), conversationUUID: event.conversationUUID, receivedAt: event.receivedAt },
          existing,
          only,
        ) ?? [];
      const rows = await ctx.storage.redeliverEvent(event.seq, { create, handlers: only === undefined ? undefined : [only] });
      return { data: rows.map(toDeliveryJson) };
    },
  );
};
