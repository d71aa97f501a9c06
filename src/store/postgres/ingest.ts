// Ingest with group commit: the events of one event-loop turn go to the database as one transaction of multi-row
// statements (one WAL flush for all of them), with their search data, first-response rows and planned deliveries.
import type pg from 'pg';
import type { IngestResult, NewEvent } from '../storage.js';
import { toTsvector } from './search.js';
import type { IdCodec } from '../ids.js';
import { inTransaction } from './connection.js';

export const DUE_CHANNEL = 'chatlio_relay_due';

// A batch's bodies travel as hex in one message: past these, the batch leaves at once and the next one starts.
const MAX_BATCH_EVENTS = 500;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

type Job = { event: NewEvent; now: number; resolve: (result: IngestResult) => void; reject: (error: unknown) => void };

export class IngestBatcher {
  private queue: Job[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly ids: IdCodec,
    /** Called after a commit that created deliveries. */
    private readonly onDeliveriesCreated: () => void,
  ) {}

  ingest(event: NewEvent, now: number): Promise<IngestResult> {
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ event, now, resolve, reject });
      this.queuedBytes += event.raw.length;
      if (this.queue.length >= MAX_BATCH_EVENTS || this.queuedBytes >= MAX_BATCH_BYTES) this.send();
      else if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate lets every request already read from the sockets in this turn join the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is queued now; batches already sent keep going on their own pool connections. */
  flush(): void {
    this.scheduled = false;
    this.send();
  }

  private send(): void {
    const jobs = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (jobs.length === 0) return;
    const batch = this.commit(jobs).finally(() => this.inFlight.delete(batch));
    this.inFlight.add(batch);
  }

  /** Sends what is queued and waits for every batch to finish. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async commit(jobs: Job[]): Promise<void> {
    try {
      const results = await this.transaction(jobs);
      jobs.forEach((job, index) => job.resolve(results[index]!));
    } catch (error) {
      if (jobs.length === 1) {
        jobs[0]!.reject(error);
        return;
      }
      // Rare path: something in the batch failed (a bad row, a deadlock between two batches with the same bodies).
      // Savepoints per row would tax the common case, so each job is retried in its own transaction instead.
      await Promise.all(jobs.map((job) => this.commit([job])));
    }
  }

  private async transaction(jobs: Job[]): Promise<IngestResult[]> {
    const { results, deliveriesCreated } = await inTransaction(this.pool, async (client) => {
      const written = await writeBatch(client, this.ids, jobs);
      // Delivered to every LISTENing replica when the transaction commits, not before.
      if (written.deliveriesCreated > 0) await client.query(`NOTIFY ${DUE_CHANNEL}`);
      return written;
    });
    if (deliveriesCreated > 0) this.onDeliveriesCreated();
    return results;
  }
}

const hex = (buffer: Buffer) => buffer.toString('hex');

async function writeBatch(client: pg.PoolClient, ids: IdCodec, jobs: Job[]): Promise<{ results: IngestResult[]; deliveriesCreated: number }> {
  // The same bytes twice in one batch are one event: only the first occurrence is inserted.
  const firstByHash = new Map<string, number>();
  const fresh: Job[] = [];
  for (const [index, job] of jobs.entries()) {
    const key = hex(job.event.bodySha256);
    if (firstByHash.has(key)) continue;
    firstByHash.set(key, index);
    fresh.push(job);
  }

  const inserted = await client.query<{ seq: number; body_sha256: Buffer }>(
    `INSERT INTO events (type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating, search, tags)
     SELECT type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating, search::tsvector,
       (SELECT array_agg(tag) FROM json_array_elements_text(tags::json) AS tag)
     FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
       WITH ORDINALITY AS u(type, received_at, body_sha256, raw, conversation_uuid, visitor_uuid, visitor_email, visitor_name, rating, search, tags, ord)
     ORDER BY ord
     ON CONFLICT (body_sha256) DO NOTHING
     RETURNING seq, body_sha256`,
    [
      fresh.map((job) => job.event.type),
      fresh.map((job) => job.event.receivedAt),
      fresh.map((job) => job.event.bodySha256),
      fresh.map((job) => job.event.raw),
      fresh.map((job) => job.event.identity.conversationUUID),
      fresh.map((job) => job.event.identity.visitorUUID),
      fresh.map((job) => job.event.identity.visitorEmail),
      fresh.map((job) => job.event.identity.visitorName),
      fresh.map((job) => job.event.identity.rating),
      fresh.map((job) => toTsvector(job.event.searchable.text)),
      fresh.map((job) => JSON.stringify(job.event.searchable.tags)),
    ],
  );
  const newSeq = new Map(inserted.rows.map((row) => [hex(row.body_sha256), row.seq]));

  // Bodies stored before (or by a batch that committed while this one waited on the unique index).
  const missing = fresh.map((job) => job.event.bodySha256).filter((hash) => !newSeq.has(hex(hash)));
  const existingSeq = new Map<string, number>();
  if (missing.length > 0) {
    const existing = await client.query<{ seq: number; body_sha256: Buffer }>(
      'SELECT seq, body_sha256 FROM events WHERE body_sha256 = ANY($1::bytea[])',
      [missing],
    );
    for (const row of existing.rows) existingSeq.set(hex(row.body_sha256), row.seq);
  }

  const results: IngestResult[] = jobs.map((job, index) => {
    const key = hex(job.event.bodySha256);
    const seq = newSeq.get(key) ?? existingSeq.get(key);
    if (seq === undefined) throw new Error('duplicate event vanished during insert');
    const duplicate = !newSeq.has(key) || firstByHash.get(key) !== index;
    return { seq, id: ids.formatEventId(seq), duplicate, deliveriesCreated: duplicate ? 0 : job.event.plan.create.length };
  });

  const created = jobs.flatMap((job, index) => (results[index]!.duplicate ? [] : [{ job, seq: results[index]!.seq }]));

  const timed = created.filter(({ job }) => job.event.searchable.firstResponseSeconds !== undefined);
  if (timed.length > 0) {
    await client.query('INSERT INTO transcript_first_response (seq, seconds) SELECT * FROM unnest($1::bigint[], $2::float8[])', [
      timed.map(({ seq }) => seq),
      timed.map(({ job }) => job.event.searchable.firstResponseSeconds),
    ]);
  }

  const deliveries = created.flatMap(({ job, seq }) => job.event.plan.create.map((delivery) => ({ ...delivery, seq, now: job.now })));
  if (deliveries.length > 0) {
    await client.query(
      `INSERT INTO deliveries (event_seq, handler, status, due_at, created_at, updated_at, conversation_uuid)
       SELECT event_seq, handler, 'pending', due_at, now, now, conversation_uuid
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) WITH ORDINALITY AS u(event_seq, handler, due_at, now, conversation_uuid, ord)
       ORDER BY ord`,
      [
        deliveries.map((delivery) => delivery.seq),
        deliveries.map((delivery) => delivery.handler),
        deliveries.map((delivery) => delivery.dueAt),
        deliveries.map((delivery) => delivery.now),
        deliveries.map((delivery) => delivery.conversationUUID),
      ],
    );
  }

  // After every creation of the batch, as if the events had been stored one by one: an escalation goes to the first
  // later event of its conversation that cancels it, never to its own event.
  const cancels = created.flatMap(({ job, seq }) => job.event.plan.cancel.map((cancel) => ({ ...cancel, seq, now: job.now })));
  if (cancels.length > 0) {
    await client.query(
      `UPDATE deliveries d SET status = 'cancelled', due_at = NULL, cancelled_by = m.by_seq, updated_at = m.now
       FROM (
         SELECT DISTINCT ON (w.id) w.id, c.by_seq, c.now
         FROM deliveries w
         JOIN unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS c(handler, conversation_uuid, by_seq, now)
           ON w.conversation_uuid = c.conversation_uuid AND w.handler = c.handler AND w.event_seq < c.by_seq
         WHERE w.status IN ('pending', 'failed')
         ORDER BY w.id, c.by_seq
       ) m
       WHERE d.id = m.id`,
      [cancels.map((c) => c.handler), cancels.map((c) => c.conversationUUID), cancels.map((c) => c.seq), cancels.map((c) => c.now)],
    );
  }

  return { results, deliveriesCreated: deliveries.length };
}
