// /api/stats: counts by type and by day over a range, ratings, and the median time to a first agent answer.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { EVENT_TYPES, type EventType } from '../chatlio/index.js';
import { eventFilterQuery, badParameter } from './event-filter.js';

const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;
const DAY_MS = 24 * 60 * 60 * 1000;

const countsByType = z.object(Object.fromEntries(EVENT_TYPES.map((type) => [type, z.number().int()])) as Record<EventType, z.ZodNumber>);

const statsSchema = z.object({
  since: z.string(),
  until: z.string(),
  total: z.number().int(),
  byType: countsByType,
  byDay: z.array(z.object({ day: z.string().describe('YYYY-MM-DD, UTC'), total: z.number().int(), byType: countsByType })),
  ratings: z.object({ up: z.number().int(), down: z.number().int() }),
  firstResponse: z.object({
    medianSeconds: z.number().nullable().describe('median time from the first visitor message to the first agent message'),
    transcripts: z.number().int().describe('transcripts that had both, which the median is taken over'),
  }),
  deliveries: z
    .record(z.string(), z.number().int())
    .describe('deliveries of the events received in the range, by status'),
});

const zeroes = () => Object.fromEntries(EVENT_TYPES.map((type) => [type, 0])) as Record<EventType, number>;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const statsRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/stats',
    {
      schema: {
        operationId: 'getStats',
        summary: 'Counts by type and day, ratings and median first-response time for a range',
        description: `The range defaults to the last ${DEFAULT_DAYS} days and may span at most ${MAX_DAYS} days.`,
        tags: ['stats'],
        querystring: z.strictObject({ since: eventFilterQuery.since, until: eventFilterQuery.until }),
        response: { 200: statsSchema },
      },
    },
    async (request) => {
      const until = request.query.until ?? Date.now();
      const since = request.query.since ?? until - DEFAULT_DAYS * DAY_MS;
      if (since >= until) throw badParameter('since', 'must be before until');
      if (until - since > MAX_DAYS * DAY_MS) throw badParameter('since', `the range may span at most ${MAX_DAYS} days`);
      const range = { since, until };

      const byType = zeroes();
      const days = new Map<string, { day: string; total: number; byType: Record<EventType, number> }>();
      let total = 0;
      for (const row of await ctx.storage.countsByTypeAndDay(range)) {
        let day = days.get(row.day);
        if (!day) days.set(row.day, (day = { day: row.day, total: 0, byType: zeroes() }));
        day.byType[row.type] += row.n;
        day.total += row.n;
        byType[row.type] += row.n;
        total += row.n;
      }
      const seconds = await ctx.storage.firstResponseSeconds(range);
      return {
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        total,
        byType,
        byDay: [...days.values()],
        ratings: await ctx.storage.ratings(range),
        firstResponse: { medianSeconds: median(seconds), transcripts: seconds.length },
        deliveries: await ctx.storage.deliveryCounts(range),
      };
    },
  );
};
