// GET /api/alerts: the operational alerts, open ones first, then the recent resolved ones, newest first.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { ALERT_KINDS } from '../store/storage.js';
import { alertJson } from '../alerts/notice.js';
import { decodeCursor, encodeCursor } from './event-filter.js';

export const alertJsonSchema = z.object({
  id: z.number().int(),
  kind: z.enum(ALERT_KINDS).describe('dead, failing (N failures in a row), overdue, silence (no webhook) or rejections (422)'),
  subject: z.string().describe('the handler it is about; "" for the relay as a whole'),
  status: z.enum(['open', 'resolved']),
  openedAt: z.string().describe('ISO 8601'),
  resolvedAt: z.string().nullable(),
  summary: z.string().describe('what is wrong'),
  advice: z.string().describe('what to do about it'),
  handler: z.string().optional(),
  lastError: z.string().nullable().optional(),
  lastStatusCode: z.number().int().nullable().optional(),
  link: z.string().optional().describe('the API view of what the alert is about'),
});

export const alertRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/alerts',
    {
      schema: {
        operationId: 'listAlerts',
        summary: 'Operational alerts: every open one, then the most recent, newest first',
        description: 'The open list is always whole; data pages through all alerts, open and resolved, newest first.',
        tags: ['alerts'],
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().min(1).max(100).optional().describe('nextCursor from the previous page'),
        }),
        response: { 200: z.object({ open: z.array(alertJsonSchema), data: z.array(alertJsonSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const [open, rows] = await Promise.all([
        ctx.storage.openAlerts(),
        ctx.storage.listAlerts({ before: cursor === undefined ? undefined : decodeCursor(cursor), limit: limit + 1 }),
      ]);
      const data = rows.slice(0, limit);
      return { open: open.map(alertJson), data: data.map(alertJson), nextCursor: rows.length > limit ? encodeCursor(data.at(-1)!.id) : null };
    },
  );
};
