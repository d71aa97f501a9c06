// /api/events: list, search and export stored events, read one as JSON or as its exact received bytes, erase one.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { HttpProblem } from '../errors.js';
import type { EventRow } from '../store/storage.js';
import { eventJsonSchema, toEventJson, toEventJsonText } from './event-json.js';
import { deliveryWithAttemptsSchema, eventDeliveries } from './deliveries.js';
import { decodeCursor, encodeCursor, eventFilterQuery, toEventFilter } from './event-filter.js';
import { CSV_COLUMNS, EXPORT_FORMATS, exportStream } from './export.js';
import { removedSchema } from './removed.js';

const params = z.object({ id: z.string().describe('event id, e.g. evt_000000001a') });

export const MAX_PAGE_SIZE = 500;
// A list page is built in memory: it stops early once its stored bodies pass this (nextCursor goes on from there).
export const LIST_PAGE_BYTES = 8 * 1024 * 1024;
// Each export holds a page of bodies and a connection to the database: a few at once, the others told to come back.
export const MAX_CONCURRENT_EXPORTS = 2;
const EXPORT_RETRY_AFTER_SECONDS = 10;

const listQuery = z.strictObject({
  ...eventFilterQuery,
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50).describe(`page size, at most ${MAX_PAGE_SIZE}`),
  cursor: z.string().min(1).max(100).optional().describe('nextCursor from the previous page'),
});

export const pageSchema = z.object({
  data: z.array(eventJsonSchema),
  nextCursor: z.string().nullable().describe('pass as cursor for the next (older) page; null on the last page'),
});

const exportQuery = z.strictObject({
  ...eventFilterQuery,
  format: z.enum(EXPORT_FORMATS).default('ndjson').describe('ndjson: one event JSON a line; csv: one row an event'),
});

const CONTENT_TYPES = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

export async function findEvent(ctx: AppContext, id: string): Promise<EventRow> {
  const seq = ctx.storage.parseEventId(id);
  const row = seq === undefined ? undefined : await ctx.storage.getEvent(seq);
  if (!row) throw new HttpProblem(404, `no event with id ${id}`);
  return row;
}

export const eventRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  let runningExports = 0;

  routes.get(
    '/events',
    {
      schema: {
        operationId: 'listEvents',
        summary: 'List and search events, newest first',
        description: `Filters combine (all must match). Pages follow nextCursor; walking every page returns each matching event once, even while new events arrive. A page ends early (fewer than limit events, nextCursor set) once its stored bodies pass ${LIST_PAGE_BYTES / 1024 / 1024} MiB; it always holds at least one event.`,
        tags: ['events'],
        querystring: listQuery,
        response: { 200: pageSchema },
      },
    },
    async (request, reply) => {
      const { limit, cursor, ...filterQuery } = request.query;
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      const page = await ctx.storage.listEvents(toEventFilter(filterQuery), { before, limit, maxBytes: LIST_PAGE_BYTES });
      const nextCursor = page.next === null ? null : encodeCursor(page.next);
      // Written as text (a string skips the schema serializer): stored bodies are spliced in, not serialised again.
      // Tests hold the text to pageSchema.
      const body = `{"data":[${page.rows.map(toEventJsonText).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`;
      return reply.type('application/json; charset=utf-8').send(body as unknown as z.infer<typeof pageSchema>);
    },
  );

  routes.get(
    '/events/export',
    {
      schema: {
        operationId: 'exportEvents',
        summary: 'Download every matching event as NDJSON or CSV',
        description: `Same filters as the list, streamed newest first. CSV cells that a spreadsheet would run as a formula are prefixed with a single quote. At most ${MAX_CONCURRENT_EXPORTS} exports run at once; another is answered 503 with Retry-After.`,
        tags: ['events'],
        querystring: exportQuery,
        produces: [CONTENT_TYPES.ndjson, CONTENT_TYPES.csv],
      },
      config: {
        documentedOk: {
          'application/x-ndjson': z.string().describe('one event JSON (as GET /api/events/{id} without deliveries) a line'),
          'text/csv': z.string().describe(`a header row (${CSV_COLUMNS.join(',')}), then one row an event`),
        },
      },
    },
    async (request, reply) => {
      const { format, ...filterQuery } = request.query;
      const filter = toEventFilter(filterQuery);
      if (runningExports >= MAX_CONCURRENT_EXPORTS) {
        throw new HttpProblem(503, `${MAX_CONCURRENT_EXPORTS} exports are already running; retry later`, {
          headers: { 'retry-after': String(EXPORT_RETRY_AFTER_SECONDS) },
        });
      }
      runningExports += 1;
      // 'close' comes once the response has ended, cleanly or not (a client gone, a read error).
      reply.raw.once('close', () => (runningExports -= 1));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .type(CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="chatlio-events-${stamp}.${format}"`)
        .send(exportStream(ctx.storage, filter, format));
    },
  );

  routes.get(
    '/events/:id',
    {
      schema: {
        operationId: 'getEvent',
        summary: 'One stored event, with its deliveries and their attempts',
        tags: ['events'],
        params,
        response: { 200: eventJsonSchema.extend({ deliveries: z.array(deliveryWithAttemptsSchema) }) },
      },
    },
    async (request) => {
      const row = await findEvent(ctx, request.params.id);
      return { ...toEventJson(row), deliveries: await eventDeliveries(ctx, row.seq) };
    },
  );

  routes.get(
    '/events/:id/raw',
    {
      schema: { operationId: 'getEventRaw', summary: 'The exact bytes received for an event', tags: ['events'], params },
      config: { documentedOk: { 'application/json': z.record(z.string(), z.unknown()).describe('the body byte for byte as Chatlio sent it') } },
    },
    async (request, reply) => reply.type('application/json').send((await findEvent(ctx, request.params.id)).raw),
  );

  routes.delete(
    '/events/:id',
    {
      schema: {
        operationId: 'eraseEvent',
        summary: 'Erase one event',
        description: 'Removes the event, its full-text row, its tags and its deliveries.',
        tags: ['erasure'],
        params,
        response: { 200: removedSchema },
      },
    },
    async (request) => {
      const seq = ctx.storage.parseEventId(request.params.id);
      const deleted = seq !== undefined && (await ctx.storage.deleteEvent(seq));
      if (!deleted) throw new HttpProblem(404, `no event with id ${request.params.id}`);
      request.log.info({ event: request.params.id }, 'event erased');
      return { removed: { events: 1, rejections: 0 } };
    },
  );
};
