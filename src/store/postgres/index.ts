// The PostgreSQL storage: several replicas on one database. Opens the pool, migrates under an advisory lock, and
// implements the storage contract with the modules beside it.
import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { EventType } from '../../chatlio/index.js';
import type {
  AttemptRecord,
  ClaimRequest,
  DeliveryFilter,
  DeliveryStatus,
  EventFilter,
  EventPageOptions,
  FieldError,
  NewAlert,
  NewEvent,
  Range,
  Storage,
  UiSession,
} from '../storage.js';
import { clientConfig, connectClient, LOCK_SPACE, migrate, type ConnectionOptions } from './connection.js';
import { DUE_CHANNEL, IngestBatcher } from './ingest.js';
import { DueListener } from './notify.js';
import { idCodec, type IdCodec } from '../ids.js';
import { StorageClosedError } from '../storage.js';
import * as events from './events.js';
import * as stats from './stats.js';
import * as deliveries from './deliveries.js';
import * as sessions from './sessions.js';
import * as alerts from './alerts.js';

export { PostgresUnavailableError } from './errors.js';

export type PostgresOptions = {
  /** postgres://user:password@host:port/database (libpq parameters such as sslmode in the query string). */
  url: string;
  /** Connections in the pool (LISTEN and singleton jobs use their own, outside it). */
  poolSize: number;
  /** Any statement running longer is cancelled by the server. */
  statementTimeoutMs: number;
  /** Rejected bodies kept; the oldest beyond go. */
  rejectionsMax: number;
  /** How long start-up waits for another replica's migration (default 60 s). */
  migrationLockTimeoutMs?: number;
  logger: Logger;
};

export async function openPostgresStorage(options: PostgresOptions): Promise<PostgresStorage> {
  const connection: ConnectionOptions = { url: options.url, statementTimeoutMs: options.statementTimeoutMs };
  const migrator = await connectClient(connection);
  let ids: IdCodec;
  try {
    await migrate(migrator, options.migrationLockTimeoutMs ?? 60_000);
    // Written once by migration 003: public ids end with it, exactly as on SQLite.
    const identity = await migrator.query<{ value: string }>("SELECT value FROM meta WHERE key = 'database_id'");
    ids = idCodec(identity.rows[0]!.value);
  } finally {
    await migrator.end().catch(() => undefined);
  }
  const pool = new pg.Pool({ ...clientConfig(connection), max: options.poolSize });
  // An idle connection that dies (server restart, network) is replaced on the next checkout; without a handler the
  // error would end the process.
  pool.on('error', (error) => options.logger.warn({ err: error }, 'an idle PostgreSQL connection failed'));
  return new PostgresStorage(pool, connection, options, ids);
}

export class PostgresStorage implements Storage {
  readonly backend = 'postgres' as const;
  private readonly batcher: IngestBatcher;
  private readonly due: DueListener;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connection: ConnectionOptions,
    private readonly options: PostgresOptions,
    private readonly ids: IdCodec,
  ) {
    this.due = new DueListener(connection, options.logger);
    this.batcher = new IngestBatcher(pool, ids, () => this.due.fire());
  }

  ingest(event: NewEvent, now = Date.now()) {
    return this.batcher.ingest(event, now);
  }

  getEvent(seq: number) {
    return events.getEvent(this.pool, this.ids, seq);
  }
  parseEventId(id: string) {
    return this.ids.parseEventId(id);
  }
  listEvents(filter: EventFilter, page: EventPageOptions) {
    return events.listEvents(this.pool, this.ids, filter, page);
  }
  conversation(uuid: string) {
    return events.conversation(this.pool, this.ids, uuid);
  }
  deleteEvent(seq: number) {
    return events.deleteEvent(this.pool, seq);
  }
  deleteVisitor(key: string) {
    return events.deleteVisitor(this.pool, key);
  }
  deleteOlderThan(cutoff: number, batch: number) {
    return events.deleteOlderThan(this.pool, cutoff, batch);
  }

  countsByTypeAndDay(range: Range) {
    return stats.countsByTypeAndDay(this.pool, range);
  }
  ratings(range: Range) {
    return stats.ratings(this.pool, range);
  }
  firstResponseSeconds(range: Range) {
    return stats.firstResponseSeconds(this.pool, range);
  }
  deliveryCounts(range: Range) {
    return stats.deliveryCounts(this.pool, range);
  }

  insertRejection(rejection: { type: EventType; receivedAt: number; raw: Buffer; errors: FieldError[] }) {
    return stats.insertRejection(this.pool, this.options.rejectionsMax, rejection);
  }
  getRejection(id: number) {
    return stats.getRejection(this.pool, id);
  }
  listRejections(page: { before?: number; limit: number }) {
    return stats.listRejections(this.pool, page);
  }
  removeRejection(id: number) {
    return stats.removeRejection(this.pool, id);
  }

  createSession(session: UiSession) {
    return sessions.createSession(this.pool, session);
  }
  getSession(idHash: string, now = Date.now()) {
    return sessions.getSession(this.pool, idHash, now);
  }
  deleteSession(idHash: string) {
    return sessions.deleteSession(this.pool, idHash);
  }
  deleteAllSessions() {
    return sessions.deleteAllSessions(this.pool);
  }

  claimDue(request: ClaimRequest, now?: number) {
    return deliveries.claimDue(this.pool, this.ids, request, now ?? Date.now(), now);
  }
  recordAttempt(record: AttemptRecord, now = Date.now()) {
    return deliveries.recordAttempt(this.pool, record, now);
  }
  async reapExpiredLeases(now?: number) {
    const reaped = await deliveries.reapExpiredLeases(this.pool, now ?? Date.now(), now);
    if (reaped > 0) await this.announceDue();
    return reaped;
  }
  nextDueAt(handlers: readonly string[]) {
    return deliveries.nextDueAt(this.pool, handlers);
  }

  getDelivery(seq: number) {
    return deliveries.getDelivery(this.pool, this.ids, seq);
  }
  parseDeliveryId(id: string) {
    return this.ids.parseDeliveryId(id);
  }
  deliveriesForEvent(eventSeq: number) {
    return deliveries.deliveriesForEvent(this.pool, this.ids, eventSeq);
  }
  deliveriesForEvents(eventSeqs: readonly number[]) {
    return deliveries.deliveriesForEvents(this.pool, this.ids, eventSeqs);
  }
  attempts(deliverySeq: number) {
    return deliveries.attempts(this.pool, deliverySeq);
  }
  listDeliveries(filter: DeliveryFilter, page: { before?: number; limit: number }) {
    return deliveries.listDeliveries(this.pool, this.ids, filter, page);
  }
  async redeliverEvent(eventSeq: number, input: { create: string[]; handlers?: readonly string[] }, now = Date.now()) {
    const redelivered = await deliveries.redeliverEvent(this.pool, this.ids, eventSeq, input, now);
    await this.announceDue();
    return redelivered;
  }
  async redeliverAll(filter: { status: DeliveryStatus; handler?: string; since?: number; until?: number }, now = Date.now()) {
    const count = await deliveries.redeliverAll(this.pool, filter, now);
    if (count > 0) await this.announceDue();
    return count;
  }
  backlog() {
    return deliveries.backlog(this.pool);
  }

  async openAlert(alert: NewAlert, notify: readonly string[], now = Date.now()) {
    const opened = await alerts.openAlert(this.pool, alert, notify, now);
    if (opened && notify.length > 0) await this.announceDue();
    return opened;
  }
  async resolveAlert(id: number, notify: readonly string[], now = Date.now()) {
    const resolved = await alerts.resolveAlert(this.pool, id, notify, now);
    if (resolved && notify.length > 0) await this.announceDue();
    return resolved;
  }
  getAlert(id: number) {
    return alerts.getAlert(this.pool, id);
  }
  alertKey(id: number) {
    return this.ids.alertKey(id);
  }
  openAlerts() {
    return alerts.openAlerts(this.pool);
  }
  listAlerts(page: { before?: number; limit: number }) {
    return alerts.listAlerts(this.pool, page);
  }
  deleteAlertsResolvedBefore(cutoff: number) {
    return alerts.deleteAlertsResolvedBefore(this.pool, cutoff);
  }
  handlerHealth(handler: string) {
    return alerts.handlerHealth(this.pool, handler);
  }
  deadCount(handler: string) {
    return alerts.deadCount(this.pool, handler);
  }
  lastEventReceivedAt() {
    return alerts.lastEventReceivedAt(this.pool);
  }

  async probeWrite(now = Date.now()): Promise<void> {
    if (this.closed) throw new StorageClosedError('database is closed');
    await this.pool.query(
      "INSERT INTO meta (key, value) VALUES ('probe', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
      [String(now)],
    );
  }

  async sizeBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ size: number }>('SELECT pg_database_size(current_database()) AS size');
    return rows[0]!.size;
  }

  /** Holds a session-level advisory lock on a connection of its own for the job's whole run. */
  async singleton<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    const client = await connectClient({ ...this.connection, statementTimeoutMs: 0 });
    // A connection lost mid-job releases the lock; the job finishes anyway (retention and alerts are idempotent).
    client.on('error', (error) => this.options.logger.warn({ err: error, job: name }, 'lost the connection holding a singleton lock'));
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [
        LOCK_SPACE.singleton,
        name,
      ]);
      if (!rows[0]!.locked) return undefined;
      return await job();
    } finally {
      // Ending the session releases the lock.
      await client.end().catch(() => undefined);
    }
  }

  /** Set by close(): readiness then says "closed" instead of the pool's own error. */
  private closed = false;

  onDeliveriesDue(listener: () => void): () => void {
    return this.due.add(listener).remove;
  }

  /** Resolves once the LISTEN connection is up (it opens with the first onDeliveriesDue); for tests and start-up. */
  listening(): Promise<void> {
    const registration = this.due.add(() => undefined);
    registration.remove();
    return registration.ready;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.batcher.drain();
    await this.due.close();
    await this.pool.end();
  }

  /** Wakes workers on every replica (NOTIFY reaches this one's LISTEN too) and this process's listeners at once. */
  private async announceDue(): Promise<void> {
    await this.pool.query(`NOTIFY ${DUE_CHANNEL}`);
    this.due.fire();
  }
}
