// Aggregates over a time range: counts by type and day, ratings, and the transcripts to measure response times on.
import type { Db } from './db.js';
import type { EventType } from '../chatlio/index.js';
import { CLOCK_SLACK_MS, type EventQueries } from './event-queries.js';

export type Range = { since: number; until: number };

export type StatsStore = ReturnType<typeof statsStore>;

const TRANSCRIPT_PAGE = 500;

export function statsStore(db: Db, queries: Pick<EventQueries, 'seqBoundAt'>) {
  // Scans only the seq range the time range maps to; type and received_at sit before the raw body in each row.
  const byTypeAndDay = db.prepare<Record<string, number>, { type: EventType; day: string; n: number }>(`
    SELECT type, strftime('%Y-%m-%d', received_at / 1000, 'unixepoch') AS day, count(*) AS n
    FROM events
    WHERE seq >= @low AND seq < @high AND received_at >= @since AND received_at < @until
    GROUP BY day, type ORDER BY day, type`);
  const ratings = db.prepare<Record<string, number>, { rating: 'up' | 'down'; n: number }>(`
    SELECT rating, count(*) AS n FROM events
    WHERE rating IS NOT NULL AND seq >= @low AND seq < @high AND received_at >= @since AND received_at < @until
    GROUP BY rating`);
  const transcripts = db.prepare<Record<string, number>, { seq: number; raw: Buffer }>(`
    SELECT seq, raw FROM events
    WHERE type = 'transcript' AND seq > @after AND seq < @high AND received_at >= @since AND received_at < @until
    ORDER BY seq LIMIT @limit`);

  const bounds = (range: Range) => ({
    low: queries.seqBoundAt(range.since - CLOCK_SLACK_MS),
    high: queries.seqBoundAt(range.until + CLOCK_SLACK_MS),
    since: range.since,
    until: range.until,
  });

  return {
    countsByTypeAndDay(range: Range) {
      return byTypeAndDay.all(bounds(range));
    },
    ratings(range: Range): { up: number; down: number } {
      const counts = { up: 0, down: 0 };
      for (const row of ratings.all(bounds(range))) counts[row.rating] = row.n;
      return counts;
    },
    /** Every transcript body in the range, read in short pages so no read transaction stays open for long. */
    *transcriptBodies(range: Range): Generator<Buffer> {
      const params = bounds(range);
      let after = params.low - 1;
      for (;;) {
        const rows = transcripts.all({ ...params, after, limit: TRANSCRIPT_PAGE });
        for (const row of rows) yield row.raw;
        if (rows.length < TRANSCRIPT_PAGE) return;
        after = rows.at(-1)!.seq;
      }
    },
  };
}
