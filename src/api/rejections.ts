// /api/rejections: bodies refused with 422, to inspect and, once the schema accepts them, replay into the store.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { EVENT_TYPES, payloadSchemas } from '../chatlio/index.js';
import { HttpProblem, fieldErrors } from '../errors.js';
import { parseJson } from '../json.js';
import { ingestEvent } from '../ingest/pipeline.js';
import { ingestAnswerSchema } from '../ingest/routes.js';
import type { RejectionRow } from '../store/storage.js';
import { decodeCursor, encodeCursor } from './event-filter.js';

const rejectionSchema = z.object({
  id: z.number().int(),
  type: z.enum(EVENT_TYPES),
  receivedAt: z.string().describe('ISO 8601'),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).describe('why the body was refused'),
  body: z.string().describe('the body as received, as text'),
});

const params = z.object({ id: z.coerce.number().int().min(1).describe('rejection id') });

const toJson = (row: RejectionRow): z.infer<typeof rejectionSchema> => ({
  id: row.id,
  type: row.type,
  receivedAt: new Date(row.receivedAt).toISOString(),
  errors: row.errors,
  body: row.raw.toString('utf8'),
});

async function findRejection(ctx: AppContext, id: number): Promise<RejectionRow> {
  const row = await ctx.storage.getRejection(id);
  if (!row) throw new HttpProblem(404, `no rejection with id ${id}`);
  return row;
}

export const rejectionRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/rejections',
    {
      schema: {
        operationId: 'listRejections',
        summary: 'Bodies refused with 422, newest first',
        tags: ['rejections'],
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().min(1).max(100).optional().describe('nextCursor from the previous page'),
        }),
        response: { 200: z.object({ data: z.array(rejectionSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await ctx.storage.listRejections({ before: cursor === undefined ? undefined : decodeCursor(cursor), limit: limit + 1 });
      const data = rows.slice(0, limit);
      return { data: data.map(toJson), nextCursor: rows.length > limit ? encodeCursor(data.at(-1)!.id) : null };
    },
  );

  routes.get(
    '/rejections/:id',
    { schema: { operationId: 'getRejection', summary: 'One rejected body', tags: ['rejections'], params, response: { 200: rejectionSchema } } },
    async (request) => toJson(await findRejection(ctx, request.params.id)),
  );

  routes.post(
    '/rejections/:id/replay',
    {
      schema: {
        operationId: 'replayRejection',
        summary: 'Validate a rejected body again and store it if it now passes',
        description: 'On success the rejection is removed and the new event id returned; still invalid → 422 with the errors.',
        tags: ['rejections'],
        params,
        response: { 200: ingestAnswerSchema },
      },
      config: { problems: [422] },
    },
    async (request) => {
      const rejection = await findRejection(ctx, request.params.id);
      let json: unknown;
      try {
        json = parseJson(rejection.raw.toString('utf8'));
      } catch (error) {
        throw new HttpProblem(422, `the body is not JSON: ${(error as Error).message}`);
      }
      const result = payloadSchemas[rejection.type].safeParse(json);
      if (!result.success) {
        throw new HttpProblem(422, `the ${rejection.type} payload still does not pass validation`, { errors: fieldErrors(result.error) });
      }
      // receivedAt is now: the event enters the store now, and arrival order is what time filters rely on.
      const event = await ingestEvent(ctx, { type: rejection.type, raw: rejection.raw, payload: result.data, receivedAt: Date.now() });
      // Removed only once the event is committed; replaying again before that lands on the duplicate, not a second event.
      await ctx.storage.removeRejection(rejection.id);
      request.log.info({ rejection: rejection.id, event: event.id }, 'rejection replayed');
      return { id: event.id, type: rejection.type, duplicate: event.duplicate };
    },
  );
};
