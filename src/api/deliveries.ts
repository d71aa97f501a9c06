// /api/deliveries and /api/events/:id/redeliver: the outbox as JSON, and putting deliveries back to pending.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { HttpProblem } from '../errors.js';
import { DELIVERY_STATUSES, parseDeliveryId, type Attempt, type Delivery } from '../store/deliveries.js';
import { findEvent } from './events.js';
import { parsePayload } from './event-json.js';

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
  eventId: z.string(),
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

const withAttempts = (ctx: AppContext, delivery: Delivery) => ({
  ...toDeliveryJson(delivery),
  attemptLog: ctx.deliveries.attempts(delivery.seq).map(toAttemptJson),
});

/** An event's deliveries with their attempts, for GET /api/events/:id. */
export function eventDeliveries(ctx: AppContext, eventSeq: number) {
  return ctx.deliveries.forEvent(eventSeq).map((delivery) => withAttempts(ctx, delivery));
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
        summary: 'Deliveries, newest first, keyset-paginated',
        tags: ['deliveries'],
        querystring: listQuery,
        response: { 200: z.object({ data: z.array(deliveryJsonSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { status, handler, limit, cursor } = request.query;
      const rows = ctx.deliveries.list({ status, handler }, { before: cursor ? decodeCursor(cursor) : undefined, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { data: page.map(toDeliveryJson), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!.seq) : null };
    },
  );

  routes.get(
    '/deliveries/:id',
    {
      schema: {
        summary: 'One delivery with its attempts',
        tags: ['deliveries'],
        params: z.object({ id: z.string().describe('delivery id, e.g. dlv_0000000001') }),
        response: { 200: deliveryWithAttemptsSchema },
      },
    },
    async (request) => {
      const seq = parseDeliveryId(request.params.id);
      const delivery = seq === undefined ? undefined : ctx.deliveries.get(seq);
      if (!delivery) throw new HttpProblem(404, `no delivery with id ${request.params.id}`);
      return withAttempts(ctx, delivery);
    },
  );

  routes.post(
    '/deliveries/redeliver',
    {
      schema: {
        summary: 'Put every delivery in a status (default dead) back to pending, due now',
        tags: ['deliveries'],
        querystring: z.object({ status: z.enum(REDELIVERABLE).default('dead'), handler: z.string().min(1).optional() }),
        response: { 200: z.object({ redelivered: z.number().int() }) },
      },
    },
    async (request) => {
      const redelivered = ctx.deliveries.redeliverAll(request.query);
      if (redelivered > 0) ctx.dispatch?.notify();
      request.log.info({ redelivered, ...request.query }, 'bulk redelivery');
      return { redelivered };
    },
  );

  routes.post(
    '/events/:id/redeliver',
    {
      schema: {
        summary: "Deliver an event again to all its handlers, or to one (?handler=), keeping the attempts so far",
        tags: ['deliveries'],
        params: z.object({ id: z.string() }),
        querystring: z.object({ handler: z.string().min(1).optional() }),
        response: { 200: z.object({ data: z.array(deliveryJsonSchema) }) },
      },
    },
    async (request) => {
      const event = findEvent(ctx, request.params.id);
      const only = request.query.handler;
      if (only !== undefined && !ctx.dispatch?.handler(only) && !ctx.deliveries.forEvent(event.seq).some((d) => d.handler === only)) {
        throw new HttpProblem(404, `no handler named ${only} in the config file`, { errors: [{ path: 'handler', message: 'unknown handler' }] });
      }
      ctx.db.transaction(() => {
        // A handler added to the config after the event arrived gets its first delivery now.
        ctx.dispatch?.planMissing(
          { seq: event.seq, type: event.type, payload: parsePayload(event), conversationUUID: event.conversationUUID, receivedAt: event.receivedAt },
          only,
        );
        const targets = ctx.deliveries.forEvent(event.seq).filter((delivery) => only === undefined || delivery.handler === only);
        for (const delivery of targets) ctx.deliveries.redeliver(delivery.seq);
      }).immediate();
      ctx.dispatch?.notify();
      return { data: ctx.deliveries.forEvent(event.seq).filter((d) => only === undefined || d.handler === only).map(toDeliveryJson) };
    },
  );
};
