// Group commit: writes queued during one event-loop turn share one durable transaction (one fdatasync, not one each).
import type { Db } from './db.js';

type Job = { write: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export class GroupCommitter {
  private queue: Job[] = [];
  private scheduled = false;

  constructor(private readonly db: Db) {}

  /**
   * Runs `write` inside the next shared transaction; resolves once that transaction is committed.
   * A write that throws fails alone: the others of its group are committed without it. `write` may run twice
   * (the second time after its first try was rolled back), so it must touch nothing but the database.
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
    let values: unknown[];
    try {
      values = this.db.transaction(() => jobs.map((job) => job.write())).immediate();
    } catch {
      // Rare path: something in the group failed. Savepoints on every write would tax the common case,
      // so retry each write in its own transaction to find the one that fails and commit the rest.
      for (const job of jobs) this.commitAlone(job);
      return;
    }
    jobs.forEach((job, index) => job.resolve(values[index]));
  }

  private commitAlone(job: Job): void {
    try {
      job.resolve(this.db.transaction(job.write).immediate());
    } catch (error) {
      job.reject(error);
    }
  }
}
