// The embedded backend: the Storage contract over better-sqlite3 (synchronous, one writer connection, group commit).
import { statSync } from 'node:fs';
import type {
  AttemptRecord,
  ClaimRequest,
  EventFilter,
  FieldError,
  IngestResult,
  NewEvent,
  Range,
  Storage,
} from '../storage.js';
import { StorageClosedError } from '../storage.js';
import { DatabaseRefusedError } from './startup.js';
import type { EventType } from '../../chatlio/index.js';
import { databaseIds, openDb, readDatabaseId, type Db } from './db.js';
import type { Logger } from '../../logger.js';
import { dirname } from 'node:path';
import { checkBeforeOpen, readMarker, writeMarker, type QuickCheck } from './startup.js';
import { holdSharedLock, lockPath, type Lock } from './lock.js';
import { ensureOwnerOnlyDir } from './modes.js';
import { storageHealth, watchErrors } from './health.js';
import { GroupCommitter } from './group-commit.js';
import { eventStore } from './events.js';
import { searchStore } from './search.js';
import { CLOCK_SLACK_MS, eventQueries } from './event-queries.js';
import { rejectionStore } from './rejections.js';
import { statsStore } from './stats.js';
import { deliveryStore } from './deliveries.js';
import { backupTo } from './backup.js';
import { sessionStore } from './sessions.js';
import { alertStore } from './alerts.js';

export { DB_FILE } from './db.js';
export { DatabaseRefusedError } from './startup.js';

export type SqliteOptions = {
  /** The database file; its directory is created if missing. */
  path: string;
  /** 'full' survives a power cut; 'normal' only a process crash. */
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
  /** Rejected bodies kept; the oldest beyond are dropped. */
  rejectionsMax: number;
  /** Start-up waits this long for PRAGMA quick_check, then lets it finish in the background (default 10 s). */
  quickCheckTimeoutMs?: number;
  /** For the start-up warnings and the one loud line when the file turns out damaged. */
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
};

const QUICK_CHECK_TIMEOUT_MS = 10_000;
// The readiness probe's write after a real write failed: about one large event, in new pages, rolled into nothing.
const SPACE_PROBE_BYTES = 64 * 1024;

export type SqliteStorage = Storage & {
  readonly backend: 'sqlite';
  readonly path: string;
  /** The writer connection itself, for SQLite-specific tests (WAL frames, max_page_count, query_only). */
  readonly db: Db;
  /** SQLite's online backup into one checked, self-contained file (`chatlio-relay backup`). */
  backup(target: string): Promise<{ bytes: number; schemaVersion: number }>;
  /** The query plan a filter runs, for benchmarks and tests. */
  explain(filter: EventFilter, before?: number): string;
};

/** The writes that go through the group commit, as data: what each does is in `apply` below. */
type WriteJob =
  | { kind: 'ingest'; event: NewEvent; now: number }
  | { kind: 'insertRejection'; rejection: { type: EventType; receivedAt: number; raw: Buffer; errors: FieldError[] } }
  | { kind: 'removeRejection'; id: number }
  | { kind: 'deleteEvent'; seq: number }
  | { kind: 'deleteVisitor'; key: string }
  | { kind: 'deleteOlderThan'; cutoff: number; batch: number };

/** Checks the file is the database that was here and sound, then opens it (see startup.ts); throws DatabaseRefusedError. */
export async function openSqliteStorage(options: SqliteOptions): Promise<SqliteStorage> {
  const { path, logger } = options;
  const dataDir = dirname(path);
  const dirMode = ensureOwnerOnlyDir(dataDir);
  if ((dirMode & 0o077) !== 0) {
    logger?.warn(
      { dataDir, mode: dirMode.toString(8) },
      `DATA_DIR ${dataDir} is readable by other users (mode ${dirMode.toString(8)}); it holds visitors' personal data and the tokens: chmod 700 it`,
    );
  }
  let lock: Lock;
  try {
    lock = holdSharedLock(path, options.busyTimeoutMs);
  } catch (error) {
    throw new DatabaseRefusedError(`cannot lock ${lockPath(path)} (${(error as { code?: string }).code ?? (error as Error).message}): a \`chatlio-relay restore\` may be running; start again once it has finished`);
  }
  let db: Db;
  try {
    const late = (check: QuickCheck) => {
      if (check.result === 'damaged') logger?.error({ path }, `${path} fails PRAGMA quick_check (${check.detail}): stop chatlio-relay and restore a backup`);
      else logger?.info({ path }, 'PRAGMA quick_check finished: ok');
    };
    const timeoutMs = options.quickCheckTimeoutMs ?? QUICK_CHECK_TIMEOUT_MS;
    const verdict = await checkBeforeOpen(path, { quickCheckTimeoutMs: timeoutMs, late });
    if (verdict.check.result === 'unfinished') {
      logger?.warn({ path }, `PRAGMA quick_check of ${path} did not finish within ${timeoutMs} ms; starting while it finishes in the background (\`chatlio-relay check-db\` runs the full check)`);
    }
    db = openDb(path, { synchronous: options.synchronous, busyTimeoutMs: options.busyTimeoutMs });
  } catch (error) {
    lock.release();
    throw error;
  }
  const ids = databaseIds(db);
  // Kept beside the file so the next start recognises it (and refuses an empty or foreign one in its place).
  const databaseId = readDatabaseId(db)!;
  if (readMarker(path) !== databaseId) writeMarker(path, databaseId);
  const health = storageHealth(path, logger);

  const events = eventStore(db, ids);
  const search = searchStore(db);
  const queries = eventQueries(db, ids);
  const rejections = rejectionStore(db, { max: options.rejectionsMax });
  const stats = statsStore(db, queries);
  const deliveries = deliveryStore(db, ids);
  const sessions = sessionStore(db);
  const alerts = alertStore(db);

  /** The event, its full-text and first-response rows, and its planned deliveries and cancellations. */
  const writeEvent = (event: NewEvent, now: number): IngestResult => {
    const stored = events.insert(event);
    if (stored.duplicate) return { seq: stored.seq, id: ids.formatEventId(stored.seq), duplicate: true, deliveriesCreated: 0 };
    // The full-text row and the outbox rows commit with the event: search never sees it half-indexed, and a 200
    // means every delivery is on record. A duplicate indexes and plans nothing.
    search.index(stored.seq, event.searchable);
    const created = deliveries.applyPlan(stored.seq, event.identity.conversationUUID, event.plan, now);
    return { seq: stored.seq, id: ids.formatEventId(stored.seq), duplicate: false, deliveriesCreated: created };
  };

  const apply = (job: WriteJob): unknown => {
    switch (job.kind) {
      case 'ingest':
        return writeEvent(job.event, job.now);
      case 'insertRejection':
        return rejections.insert(job.rejection.type, job.rejection.receivedAt, job.rejection.raw, job.rejection.errors);
      case 'removeRejection':
        return rejections.remove(job.id);
      case 'deleteEvent':
        return queries.deleteEvent(job.seq);
      case 'deleteVisitor':
        return queries.deleteVisitor(job.key);
      case 'deleteOlderThan':
        return queries.deleteOlderThan(job.cutoff, job.batch);
    }
  };
  const committer = new GroupCommitter<WriteJob>(db, apply, { committed: health.wrote, failed: health.writeFailed });

  const spaceProbe = db.transaction(() => {
    db.prepare("INSERT INTO meta (key, value) VALUES ('readyz-space', randomblob(?))").run(SPACE_PROBE_BYTES);
    db.prepare("DELETE FROM meta WHERE key = 'readyz-space'").run();
  });
  const touch = db.prepare<[string]>("INSERT INTO meta (key, value) VALUES ('readyz', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");

  // One process per file: listeners are in-process, fired once per turn after the commit that made deliveries due.
  const listeners = new Set<() => void>();
  let notifyScheduled = false;
  const notifyDue = () => {
    if (notifyScheduled || listeners.size === 0) return;
    notifyScheduled = true;
    setImmediate(() => {
      notifyScheduled = false;
      for (const listener of listeners) listener();
    });
  };

  const immediate = <T>(write: () => T): T => {
    if (!db.open) throw new StorageClosedError('database is closed');
    try {
      const result = db.transaction(write).immediate();
      health.wrote();
      return result;
    } catch (error) {
      health.writeFailed(error);
      throw error;
    }
  };
  const seqRange = (since: number | undefined, until: number | undefined) => ({
    lowSeq: since === undefined ? 0 : queries.seqBoundAt(since - CLOCK_SLACK_MS),
    highSeq: until === undefined ? Number.MAX_SAFE_INTEGER : queries.seqBoundAt(until + CLOCK_SLACK_MS),
  });

  const storage: SqliteStorage = {
    backend: 'sqlite',
    path: options.path,
    db,

    async ingest(event: NewEvent, now = event.receivedAt): Promise<IngestResult> {
      const result = await committer.run<IngestResult>({ kind: 'ingest', event, now });
      if (result.deliveriesCreated > 0) notifyDue();
      return result;
    },

    async getEvent(seq) {
      return events.get(seq);
    },
    parseEventId: ids.parseEventId,
    async listEvents(filter, page) {
      return queries.list(filter, page);
    },
    async conversation(uuid) {
      return queries.conversation(uuid);
    },
    deleteEvent: (seq) => committer.run({ kind: 'deleteEvent', seq }),
    deleteVisitor: (key) => committer.run({ kind: 'deleteVisitor', key }),
    deleteOlderThan: (cutoff, batch) => committer.run({ kind: 'deleteOlderThan', cutoff, batch }),

    countsByTypeAndDay: (range: Range) => stats.countsByTypeAndDay(range),
    ratings: (range: Range) => stats.ratings(range),
    firstResponseSeconds: (range: Range) => stats.firstResponseSeconds(range),
    async deliveryCounts(range: Range) {
      return deliveries.countsByStatusForEvents(queries.seqBoundAt(range.since - CLOCK_SLACK_MS), queries.seqBoundAt(range.until + CLOCK_SLACK_MS), range);
    },

    insertRejection: (rejection) => committer.run({ kind: 'insertRejection', rejection }),
    async getRejection(id) {
      return rejections.get(id);
    },
    async listRejections(page) {
      return rejections.list(page);
    },
    removeRejection: (id) => committer.run({ kind: 'removeRejection', id }),

    async claimDue(request: ClaimRequest, now = Date.now()) {
      return immediate(() => deliveries.claimDue(request, now));
    },
    async recordAttempt(record: AttemptRecord, now = Date.now()) {
      return immediate(() => deliveries.recordAttempt(record, now));
    },
    async reapExpiredLeases(now = Date.now()) {
      if (!deliveries.hasExpiredLeases(now)) return 0;
      const reaped = immediate(() => deliveries.reapExpired(now));
      if (reaped > 0) notifyDue();
      return reaped;
    },
    async nextDueAt(handlers) {
      return deliveries.nextDueAt(handlers);
    },

    async getDelivery(seq) {
      return deliveries.get(seq);
    },
    parseDeliveryId: ids.parseDeliveryId,
    async deliveriesForEvent(eventSeq) {
      return deliveries.forEvent(eventSeq);
    },
    async deliveriesForEvents(eventSeqs) {
      return deliveries.forEvents(eventSeqs);
    },
    async attempts(deliverySeq) {
      return deliveries.attempts(deliverySeq);
    },
    async listDeliveries(filter, page) {
      return deliveries.list(filter, page);
    },
    async redeliverEvent(eventSeq, input, now = Date.now()) {
      const rows = immediate(() => deliveries.redeliverEvent(eventSeq, input, now));
      notifyDue();
      return rows;
    },
    async redeliverAll(filter, now = Date.now()) {
      const count = immediate(() => deliveries.redeliverAll({ ...filter, ...seqRange(filter.since, filter.until) }, now));
      if (count > 0) notifyDue();
      return count;
    },
    async backlog() {
      return deliveries.backlog();
    },

    // Sign-in and sign-out are rare and small: their own short transactions, not the ingest group commit.
    async createSession(session) {
      immediate(() => sessions.create(session));
    },
    async getSession(idHash, now = Date.now()) {
      return sessions.get(idHash, now);
    },
    async deleteSession(idHash) {
      immediate(() => sessions.delete(idHash));
    },
    async deleteAllSessions() {
      return immediate(() => sessions.deleteAll());
    },

    async openAlert(alert, notify, now = Date.now()) {
      const opened = immediate(() => alerts.open(alert, notify, now));
      if (opened && notify.length > 0) notifyDue();
      return opened;
    },
    async resolveAlert(id, notify, now = Date.now()) {
      const resolved = immediate(() => alerts.resolve(id, notify, now));
      if (resolved && notify.length > 0) notifyDue();
      return resolved;
    },
    async getAlert(id) {
      return alerts.get(id);
    },
    alertKey: ids.alertKey,
    async openAlerts() {
      return alerts.openAlerts();
    },
    async listAlerts(page) {
      return alerts.list(page.before, page.limit);
    },
    async deleteAlertsResolvedBefore(cutoff) {
      return immediate(() => alerts.deleteResolvedBefore(cutoff));
    },
    async handlerHealth(handler) {
      return alerts.health(handler);
    },
    async deadCount(handler) {
      return alerts.deadCount(handler);
    },
    async lastEventReceivedAt() {
      return alerts.lastEventReceivedAt();
    },

    async probeWrite(now = Date.now()) {
      if (!db.open) throw new StorageClosedError('database is closed');
      const damage = health.damage();
      if (damage) throw new Error(damage);
      const failure = health.lastWriteFailure();
      if (failure) {
        // The last real write failed (disk full?) and none has succeeded since: ready again only once a write the
        // size of a large event fits, else a full disk would look ready because this probe's tiny write still fits.
        try {
          spaceProbe.immediate();
          health.wrote();
        } catch (error) {
          const code = (failure as { code?: string }).code ?? 'error';
          throw new Error(`the last write failed (${code}: ${failure.message}) and a ${SPACE_PROBE_BYTES / 1024} KiB write still fails (${(error as Error).message})`, { cause: error });
        }
      }
      touch.run(new Date(now).toISOString());
    },
    async sizeBytes() {
      // The main file plus its write-ahead log; a missing -wal (after a clean close) counts as zero.
      let total = 0;
      for (const file of [options.path, `${options.path}-wal`]) {
        try {
          total += statSync(file).size;
        } catch {
          // absent
        }
      }
      return total;
    },
    // One process per database file: there is no other replica to exclude.
    singleton: (_name, job) => job(),
    onDeliveriesDue(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      try {
        committer.flush();
      } finally {
        if (db.open) db.close();
        lock.release();
      }
    },

    backup: (target) => backupTo(db, target),
    explain: (filter, before) => queries.explain(filter, before),
  };
  // Damage seen by any call, a read included, makes the storage not ready and is logged once.
  return watchErrors(storage, health.saw);
}
