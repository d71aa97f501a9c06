// Group commit: writes queued during one event-loop turn share one durable transaction (one fdatasync, not one each).
import type { Db } from './db.js';

/** Told the outcome of every commit, for readiness: the last real write's result. */
export type CommitOutcome = { committed(): void; failed(error: unknown): void };

type Queued<Job> = { job: Job; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/**
 * Queues jobs as data and applies them with `apply` inside the next shared IMMEDIATE transaction. `apply` may run a job
 * twice (the second time after its first try was rolled back), so it must touch nothing but the database.
 */
export class GroupCommitter<Job> {
  private queue: Array<Queued<Job>> = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly apply: (job: Job) => unknown,
    private readonly outcome: CommitOutcome = { committed: () => undefined, failed: () => undefined },
  ) {}

  /**
   * Resolves with what `apply` returned for the job once its transaction is committed. A job that throws fails alone:
   * the others of its group are committed without it.
   */
  run<T>(job: Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
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
    const queued = this.queue;
    this.queue = [];
    if (queued.length === 0) return;
    let values: unknown[];
    try {
      values = this.db.transaction(() => queued.map(({ job }) => this.apply(job))).immediate();
    } catch {
      // Rare path: something in the group failed. Savepoints on every write would tax the common case,
      // so retry each job in its own transaction to find the one that fails and commit the rest.
      for (const item of queued) this.commitAlone(item);
      return;
    }
    this.outcome.committed();
    queued.forEach((item, index) => item.resolve(values[index]));
  }

  private commitAlone(item: Queued<Job>): void {
    try {
      const value = this.db.transaction(() => this.apply(item.job)).immediate();
      this.outcome.committed();
      item.resolve(value);
    } catch (error) {
      this.outcome.failed(error);
      item.reject(error);
    }
  }
}
