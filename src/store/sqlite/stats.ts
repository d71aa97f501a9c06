// Aggregates over a time range: counts by type and day, ratings, first-response times; read in windows so ingest keeps going.
import type { Db } from './db.js';
import type { EventType } from '../../chatlio/index.js';
import type { Range } from '../storage.js';
import { CLOCK_SLACK_MS, type EventQueries } from './event-queries.js';

export type StatsStore = ReturnType<typeof statsStore>;

// A long range is read this many seqs at a time, letting the event loop turn between windows: a year of events never
// holds up a webhook for the whole scan.
const WINDOW = 20_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

type Window = { low: number; high: number; since: number; until: number };

export function statsStore(db: Db, queries: Pick<EventQueries, 'seqBoundAt'>) {
  // type and received_at sit before the raw body in each row, so counting reads no bodies.
  const byTypeAndDay = db.prepare<Window, { type: EventType; day: string; n: number }>(`
    SELECT type, strftime('%Y-%m-%d', received_at / 1000, 'unixepoch') AS day, count(*) AS n
    FROM events
    WHERE seq >= @low AND seq < @high AND received_at >= @since AND received_at < @until
    GROUP BY day, type`);
  const ratings = db.prepare<Window, { rating: 'up' | 'down'; n: number }>(`
    SELECT rating, count(*) AS n FROM events
    WHERE rating IS NOT NULL AND seq >= @low AND seq < @high AND received_at >= @since AND received_at < @until
    GROUP BY rating`);
  const firstResponses = db.prepare<Window, { seconds: number }>(`
    SELECT f.seconds FROM transcript_first_response f JOIN events e ON e.seq = f.seq
    WHERE f.seq >= @low AND f.seq < @high AND e.received_at >= @since AND e.received_at < @until`);

  async function* windows(range: Range): AsyncGenerator<Window> {
    const low = queries.seqBoundAt(range.since - CLOCK_SLACK_MS);
    const high = queries.seqBoundAt(range.until + CLOCK_SLACK_MS);
    for (let start = low; start < high; start += WINDOW) {
      yield { low: start, high: Math.min(start + WINDOW, high), since: range.since, until: range.until };
      await nextTurn();
    }
  }

  return {
    async countsByTypeAndDay(range: Range): Promise<Array<{ type: EventType; day: string; n: number }>> {
      const counts = new Map<string, { type: EventType; day: string; n: number }>();
      for await (const window of windows(range)) {
        for (const row of byTypeAndDay.all(window)) {
          const key = `${row.day} ${row.type}`;
          const seen = counts.get(key);
          if (seen) seen.n += row.n;
          else counts.set(key, { ...row });
        }
      }
      return [...counts.values()].sort((a, b) => a.day.localeCompare(b.day) || a.type.localeCompare(b.type));
    },
    async ratings(range: Range): Promise<{ up: number; down: number }> {
      const counts = { up: 0, down: 0 };
      for await (const window of windows(range)) for (const row of ratings.all(window)) counts[row.rating] += row.n;
      return counts;
    },
    /** Seconds to the first agent answer of every transcript in the range that had one. */
    async firstResponseSeconds(range: Range): Promise<number[]> {
      const seconds: number[] = [];
      for await (const window of windows(range)) for (const row of firstResponses.all(window)) seconds.push(row.seconds);
      return seconds;
    },
  };
}
