// Group commit: writes queued during one event-loop turn share one durable transaction (one fdatasync, not one each).
import type { Db } from './db.js';

type Job = { write: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export class GroupCommitter {
  private queue: Job[] = [];
  private scheduled = false;

  constructor(private readonly db: Db) {}

  /**
   * Runs `write` inside the next shared transaction; resolves once that transaction is committed.
   * Each write runs in its own savepoint, so one failing write does not undo the others.
   */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate lets every request already read from the sockets in this turn join the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits whatever is queued now; used by the timer and on shutdown. */
  flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(job.write)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }
}
