// Live inbox: each open inbox holds a Server-Sent Events stream that carries the ids of events newer than the page's
// newest row matching its filters; the page shows "N new events" and never moves its rows. Polling the storage (not an
// in-process signal) sees events stored by any replica on a shared database.
import type { ServerResponse } from 'node:http';
import type { EventFilter, Storage } from '../store/storage.js';

const MAX_IDS_PER_MESSAGE = 100;

export function liveStreams(storage: Storage, pollMs: number) {
  const open = new Set<() => void>();
  return {
    /** Streams `filter`'s new events after `afterSeq` to `response` until the client leaves or the server closes. */
    stream(response: ServerResponse, filter: EventFilter, afterSeq: number, onError: (error: unknown) => void): void {
      let after = afterSeq;
      let polling = false;
      const poll = async () => {
        if (polling) return;
        polling = true;
        try {
          const page = await storage.listEvents(filter, { limit: MAX_IDS_PER_MESSAGE });
          const fresh = page.rows.filter((row) => row.seq > after);
          if (fresh.length > 0) {
            after = Math.max(...fresh.map((row) => row.seq));
            response.write(`event: events\ndata: ${JSON.stringify(fresh.map((row) => row.id))}\n\n`);
          } else {
            // A comment line: keeps proxies from timing the stream out.
            response.write(': idle\n\n');
          }
        } catch (error) {
          onError(error);
        } finally {
          polling = false;
        }
      };
      const timer = setInterval(() => void poll(), pollMs);
      const end = () => {
        clearInterval(timer);
        open.delete(end);
        if (!response.writableEnded) response.end();
      };
      open.add(end);
      response.on('close', end);
      response.write(`retry: ${Math.max(pollMs, 1000)}\n\n`);
      void poll();
    },
    closeAll(): void {
      for (const end of [...open]) end();
    },
    get size() {
      return open.size;
    },
  };
}

export type LiveStreams = ReturnType<typeof liveStreams>;
