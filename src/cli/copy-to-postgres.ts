// `chatlio-relay copy-to-postgres`: copies a SQLite database into an empty PostgreSQL one with the same ids, in
// resumable batches, then verifies counts and a checksum of the raw bodies on both sides.
import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { searchableOfRaw } from '../chatlio/searchable.js';
import { connectClient, describeUrl, migrate } from '../store/postgres/connection.js';
import { PostgresUnavailableError } from '../store/postgres/errors.js';
import { SchemaTooNewError } from '../store/migrations.js';
import * as target from '../store/postgres/import.js';
import { CliError, parseCommandArgs, usageError, type Command } from './command.js';

// The file name and DATA_DIR default the server uses (store/db.ts, config.ts). Not read through loadConfig: this
// command must run with DATABASE_URL set, whatever else the server would then require of the environment.
const DB_FILE = 'chatlio-relay.sqlite';
const DEFAULT_DATA_DIR = './data';
const DEFAULT_BATCH = 2_000;
const CHECKSUM_PAGE = 5_000;
// A batch also ends past this many bytes of bodies, as ingest's do: bodies may be up to BODY_LIMIT each.
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
// A non-terminal gets a progress line every this many batches, plus one when each table starts and ends.
const PROGRESS_LINE_BATCHES = 10;

export const copyToPostgresCommand: Command = {
  name: 'copy-to-postgres',
  summary: 'copy a SQLite database into an empty PostgreSQL database, ids kept, resumable, verified',
  help: `Usage: chatlio-relay copy-to-postgres [--from <file>] [--to <url>] [--batch-size <n>]

Copies every event (raw bytes and ids kept; search data rebuilt from the bodies), alert,
delivery, attempt and rejection of a SQLite database into an empty PostgreSQL database, a few
thousand rows per transaction, then checks the row counts and a sha256 of every raw body on
both sides. Web inbox sessions are not copied: people sign in again.
Exits 0 when the copy is verified, 1 when it is not (or cannot be made), 2 when called wrongly.

  --from <file>        the SQLite database (default: DATA_DIR/chatlio-relay.sqlite)
  --to <url>           postgres://user:password@host:5432/database (default: DATABASE_URL)
  --batch-size <n>     rows per transaction (default ${DEFAULT_BATCH})

Interrupted? Run the same command again: it continues after the rows already copied, and
brings deliveries it left pending or failed up to date. The SQLite file is opened read-only,
so the relay may keep running during a first pass; stop it, run the command again for the
rest, then start the PostgreSQL replicas. Deliveries that were running become pending, due at
once. Progress goes to stderr, the result to stdout.
`,
  async run(args, env) {
    const parsed = parseCommandArgs(
      copyToPostgresCommand,
      args,
      { from: { type: 'string' }, to: { type: 'string' }, 'batch-size': { type: 'string' } },
      { max: 0 },
    );
    if (!parsed) return 0;
    const url = postgresUrl(parsed.values.to ?? env.DATABASE_URL);
    const batchSize = positiveInteger(parsed.values['batch-size'] ?? String(DEFAULT_BATCH));
    const from = parsed.values.from ?? join(env.DATA_DIR || DEFAULT_DATA_DIR, DB_FILE);
    if (!existsSync(from)) throw new CliError(`no SQLite database at ${from}; pass --from or set DATA_DIR`);

    const source = openSource(from);
    let client: pg.Client | undefined;
    try {
      client = await connect(url);
      const result = await copy(source, client, { batchSize, progress: new Progress(process.stderr, batchSize * PROGRESS_LINE_BATCHES) });
      const where = describeUrl(url);
      if (result.mismatches.length > 0) {
        process.stdout.write(`copy to ${where} NOT verified: ${result.mismatches.join('; ')}\n`);
        return 1;
      }
      process.stdout.write(
        `copied ${from} to ${where} and verified: ${Object.entries(result.counts)
          .map(([table, count]) => `${count} ${table}`)
          .join(', ')}; raw bodies sha256 ${result.checksum}\n`,
      );
      return 0;
    } finally {
      source.close();
      await client?.end().catch(() => undefined);
    }
  },
};

function postgresUrl(value: string | undefined): string {
  if (value === undefined || value === '') throw usageError('no PostgreSQL URL: pass --to or set DATABASE_URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value may hold a password: never echo it.
    throw usageError('the PostgreSQL URL is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw usageError(`the PostgreSQL URL must start with postgres://, not ${url.protocol}//`);
  }
  return value;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw usageError(`--batch-size must be a positive integer, not "${value}"`);
  return number;
}

function openSource(file: string): Database.Database {
  let db: Database.Database | undefined;
  let tables: Set<string>;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
    tables = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => row.name));
  } catch (error) {
    db?.close();
    throw new CliError(`cannot open ${file}: ${(error as Error).message}`);
  }
  const missing = ['events', 'deliveries', 'delivery_attempts', 'rejections', 'transcript_first_response'].filter((table) => !tables.has(table));
  if (missing.length > 0) {
    db.close();
    throw new CliError(`${file} is not a chatlio-relay database of schema version 3 or newer (no ${missing.join(', ')} table)`);
  }
  return db;
}

async function connect(url: string): Promise<pg.Client> {
  try {
    // No statement timeout: a batch of large bodies or the final checksum may take a while.
    const client = await connectClient({ url, statementTimeoutMs: 0 });
    client.on('error', () => undefined);
    try {
      await migrate(client, 60_000);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  } catch (error) {
    if (error instanceof PostgresUnavailableError || error instanceof SchemaTooNewError) throw new CliError(error.message);
    throw error;
  }
}

type CopyResult = { counts: Record<target.ImportTable, number>; checksum: string; mismatches: string[] };

async function copy(source: Database.Database, client: pg.Client, options: { batchSize: number; progress: Progress }): Promise<CopyResult> {
  // One read transaction for the whole run: every table is read at the same moment, so a delivery never names an
  // event the copy has not seen, even while the relay keeps writing (WAL readers do not block the writer).
  source.exec('BEGIN');
  try {
    const identity = sourceIdentity(source);
    const marker = await target.importMarker(client);
    if (marker !== identity) {
      if (await target.holdsData(client)) {
        throw new CliError('the PostgreSQL database already holds data that is not a copy of this SQLite file; copy into an empty database');
      }
      await target.setImportMarker(client, identity);
      // Ids end with the database's identity: taking the file's keeps every id handed out in the SQLite era valid.
      const databaseId = source.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'database_id'").get()?.value;
      if (databaseId) await target.setDatabaseId(client, databaseId);
    }

    const done = await target.highestIds(client);
    const already = await target.rowCounts(client);
    const totals = sourceCounts(source);
    const reader = new SourceReader(source, options.batchSize, Date.now());
    const copyOne = <T extends { key: number }>(label: string, table: SourceTable, read: (after: number) => T[], write: (client: pg.ClientBase, rows: T[]) => Promise<void>) =>
      copyTable(client, options.progress, { label, total: totals[table], copied: already[table], after: done[table] }, read, write);
    await copyOne('events', 'events', reader.events, target.importEvents);
    // Every pass writes every alert again, in one transaction (few rows): one that was open at the first pass may have
    // been resolved since. Before the deliveries, whose alert notifications name them.
    await target.inImportTransaction(client, () => target.importAlerts(client, reader.alerts()));
    await copyOne('deliveries', 'deliveries', reader.deliveries, target.importDeliveries);
    // A resumed copy brings the deliveries an earlier pass left unfinished up to date (attempted, succeeded, cancelled
    // since), so copying live and again after stopping the relay never repeats a delivery that was done in between.
    for (const ids of chunks(await target.unfinishedDeliveryIds(client), options.batchSize)) {
      await target.inImportTransaction(client, () => target.refreshDeliveries(client, reader.deliveriesById(ids)));
    }
    await copyOne('attempts', 'delivery_attempts', reader.attempts, target.importAttempts);
    await copyOne('rejections', 'rejections', reader.rejections, target.importRejections);
    await target.inImportTransaction(client, () => target.importHandlerHealth(client, reader.handlerHealth()));

    const used = Object.fromEntries(source.prepare<[], { name: string; seq: number }>('SELECT name, seq FROM sqlite_sequence').all().map((row) => [row.name, row.seq]));
    await target.advanceSequences(client, {
      events: used.events ?? 0,
      alerts: used.alerts ?? 0,
      deliveries: used.deliveries ?? 0,
      delivery_attempts: used.delivery_attempts ?? 0,
      rejections: used.rejections ?? 0,
    });

    options.progress.note('verifying');
    const copied = await target.rowCounts(client);
    const mismatches = Object.entries(totals)
      .filter(([table, count]) => copied[table as target.ImportTable] !== count)
      .map(([table, count]) => `${table}: ${count} rows in SQLite, ${copied[table as target.ImportTable]} in PostgreSQL`);
    const sourceSum = sourceChecksum(source);
    const targetSum = await targetChecksum(client);
    if (sourceSum !== targetSum) mismatches.push(`raw bodies differ (sha256 ${sourceSum.slice(0, 16)}… in SQLite, ${targetSum.slice(0, 16)}… in PostgreSQL)`);
    return { counts: totals, checksum: sourceSum, mismatches };
  } finally {
    // A terminal's progress line is cleared before the result or an error is printed.
    options.progress.end();
    source.exec('COMMIT');
  }
}

/** One table in batches, resumed after the highest id already in PostgreSQL; a kill loses one batch at most. */
async function copyTable<T extends { key: number }>(
  client: pg.Client,
  progress: Progress,
  start: { label: string; total: number; copied: number; after: number },
  read: (after: number) => T[],
  write: (client: pg.ClientBase, rows: T[]) => Promise<void>,
): Promise<void> {
  let { after, copied } = start;
  progress.update(start.label, copied, start.total);
  for (;;) {
    const rows = read(after);
    if (rows.length === 0) break;
    await target.inImportTransaction(client, () => write(client, rows));
    after = rows.at(-1)!.key;
    copied += rows.length;
    progress.update(start.label, copied, start.total);
  }
}

type SourceTable = target.ImportTable;

/** Names the source: a hash of its first event (seq and body hash), stored in PostgreSQL's meta so a resumed copy is recognised. */
function sourceIdentity(source: Database.Database): string {
  const first = source.prepare<[], { seq: number; body_sha256: Buffer }>('SELECT seq, body_sha256 FROM events ORDER BY seq LIMIT 1').get();
  if (!first) return 'sqlite:empty';
  return `sqlite:${createHash('sha256').update(String(first.seq)).update('\n').update(first.body_sha256).digest('hex')}`;
}

function sourceCounts(source: Database.Database): Record<SourceTable, number> {
  const count = (table: SourceTable) => source.prepare<[], { count: number }>(`SELECT count(*) AS count FROM ${table}`).get()!.count;
  return {
    events: count('events'),
    alerts: hasAlerts(source) ? count('alerts') : 0,
    deliveries: count('deliveries'),
    delivery_attempts: count('delivery_attempts'),
    rejections: count('rejections'),
    transcript_first_response: count('transcript_first_response'),
  };
}

/** Alerts came with schema version 7; an older file has none (and no alert deliveries). */
function hasAlerts(source: Database.Database): boolean {
  return source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alerts'").get() !== undefined;
}

type EventSource = {
  seq: number;
  type: string;
  received_at: number;
  body_sha256: Buffer;
  raw: Buffer;
  conversation_uuid: string | null;
  visitor_uuid: string | null;
  visitor_email: string | null;
  visitor_name: string | null;
  rating: string | null;
  seconds: number | null;
};

/** Read-only SELECTs on the SQLite file, one batch after a given id each. */
class SourceReader {
  private readonly eventsAfter;
  private readonly deliveriesAfter;
  private readonly deliveriesWithIds;
  private readonly attemptsAfter;
  private readonly rejectionsAfter;
  private readonly allAlerts;
  private readonly allHandlerHealth;

  constructor(
    db: Database.Database,
    private readonly batchSize: number,
    /** When a delivery found running is due again. */
    private readonly now: number,
  ) {
    this.eventsAfter = db.prepare<[number, number], EventSource>(
      `SELECT e.seq, e.type, e.received_at, e.body_sha256, e.raw, e.conversation_uuid, e.visitor_uuid, e.visitor_email, e.visitor_name, e.rating, f.seconds
       FROM events e LEFT JOIN transcript_first_response f ON f.seq = e.seq WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
    );
    const alerts = hasAlerts(db);
    const deliveryColumns = `id, event_seq, handler, status, attempts, due_at, created_at, updated_at, conversation_uuid, manual, last_error,
      last_status_code, external_id, state, cancelled_by, ${alerts ? 'alert_id, alert_action' : 'NULL AS alert_id, NULL AS alert_action'}`;
    this.allAlerts = alerts
      ? db.prepare<[], target.ImportAlert>('SELECT id, kind, subject, opened_at AS openedAt, resolved_at AS resolvedAt, detail FROM alerts ORDER BY id')
      : undefined;
    this.allHandlerHealth = alerts
      ? db.prepare<[], target.ImportHandlerHealth>(
          `SELECT handler, consecutive_failures AS consecutiveFailures, last_error AS lastError, last_status_code AS lastStatusCode,
             updated_at AS updatedAt FROM handler_health`,
        )
      : undefined;
    this.deliveriesAfter = db.prepare<[number, number], Record<string, unknown>>(`SELECT ${deliveryColumns} FROM deliveries WHERE id > ? ORDER BY id LIMIT ?`);
    this.deliveriesWithIds = db.prepare<[string], Record<string, unknown>>(
      `SELECT ${deliveryColumns} FROM deliveries WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    );
    this.attemptsAfter = db.prepare<[number, number], Record<string, unknown>>(
      `SELECT a.id, a.delivery_id, a.attempt, a.started_at, a.duration_ms, a.outcome, a.status_code, a.error, a.response, d.status AS delivery_status
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.id > ? ORDER BY a.id LIMIT ?`,
    );
    this.rejectionsAfter = db.prepare<[number, number], { id: number; type: string; received_at: number; raw: Buffer; errors: string }>(
      'SELECT id, type, received_at, raw, errors FROM rejections WHERE id > ? ORDER BY id LIMIT ?',
    );
  }

  events = (after: number): Array<target.ImportEvent & { key: number }> =>
    takeBatch(this.eventsAfter.iterate(after, this.batchSize)).map((row) => {
      const searchable = searchableOfRaw(row.type, row.raw);
      return {
        key: row.seq,
        seq: row.seq,
        type: row.type,
        receivedAt: row.received_at,
        bodySha256: row.body_sha256,
        raw: row.raw,
        conversationUUID: row.conversation_uuid,
        visitorUUID: row.visitor_uuid,
        visitorEmail: row.visitor_email,
        visitorName: row.visitor_name,
        rating: row.rating,
        searchText: searchable.text,
        tags: searchable.tags,
        firstResponseSeconds: row.seconds,
      };
    });

  deliveries = (after: number): Array<target.ImportDelivery & { key: number }> => this.deliveriesAfter.all(after, this.batchSize).map(this.toDelivery);

  deliveriesById = (ids: number[]): Array<target.ImportDelivery & { key: number }> =>
    this.deliveriesWithIds.all(JSON.stringify(ids)).map(this.toDelivery);

  private toDelivery = (row: Record<string, unknown>): target.ImportDelivery & { key: number } => {
    // Nothing runs in a database nobody serves yet: a delivery that was running is tried again at once (its open
    // attempt is marked interrupted below), as the SQLite server does for what a dead process left running.
    const running = row.status === 'running';
    return {
      key: row.id as number,
      id: row.id as number,
      eventSeq: row.event_seq as number,
      handler: row.handler as string,
      status: running ? 'pending' : (row.status as string),
      attempts: row.attempts as number,
      dueAt: running ? this.now : (row.due_at as number | null),
      createdAt: row.created_at as number,
      updatedAt: row.updated_at as number,
      conversationUUID: row.conversation_uuid as string | null,
      manual: row.manual === 1,
      lastError: running ? 'interrupted by the copy to PostgreSQL' : (row.last_error as string | null),
      lastStatusCode: row.last_status_code as number | null,
      externalId: row.external_id as string | null,
      state: row.state as string | null,
      cancelledBy: row.cancelled_by as number | null,
      alertId: row.alert_id as number | null,
      alertAction: row.alert_action as string | null,
    };
  };

  attempts = (after: number): Array<target.ImportAttempt & { key: number }> =>
    this.attemptsAfter.all(after, this.batchSize).map((row) => {
      const open = row.outcome === null && row.delivery_status === 'running';
      return {
        key: row.id as number,
        id: row.id as number,
        deliveryId: row.delivery_id as number,
        attempt: row.attempt as number,
        startedAt: row.started_at as number,
        durationMs: row.duration_ms as number | null,
        outcome: open ? 'interrupted' : (row.outcome as string | null),
        statusCode: row.status_code as number | null,
        error: open ? 'the copy to PostgreSQL found this attempt running' : (row.error as string | null),
        response: row.response as string | null,
      };
    });

  alerts = (): target.ImportAlert[] => this.allAlerts?.all() ?? [];

  handlerHealth = (): target.ImportHandlerHealth[] => this.allHandlerHealth?.all() ?? [];

  rejections = (after: number): Array<target.ImportRejection & { key: number }> =>
    takeBatch(this.rejectionsAfter.iterate(after, this.batchSize)).map((row) => ({
      key: row.id,
      id: row.id,
      type: row.type,
      receivedAt: row.received_at,
      raw: row.raw,
      errors: row.errors,
    }));
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** Rows until the batch holds MAX_BATCH_BYTES of bodies (at least one row), so a batch of large bodies stays bounded. */
function takeBatch<R extends { raw: Buffer }>(rows: IterableIterator<R>): R[] {
  const batch: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    batch.push(row);
    bytes += row.raw.length;
    if (bytes >= MAX_BATCH_BYTES) break;
  }
  return batch;
}


/** The checksum: sha256 over every event's seq, length and sha256 of its raw body, in seq order; the same framing on both sides. */
function frame(hash: Hash, seq: number, length: number, digest: Buffer): void {
  const header = Buffer.alloc(12);
  header.writeBigUInt64BE(BigInt(seq));
  header.writeUInt32BE(length, 8);
  hash.update(header).update(digest);
}

function sourceChecksum(source: Database.Database): string {
  const hash = createHash('sha256');
  // Row by row within the copy's read transaction: one body in memory at a time.
  const rows = source.prepare<[], { seq: number; raw: Buffer }>('SELECT seq, raw FROM events ORDER BY seq').iterate();
  for (const row of rows) frame(hash, row.seq, row.raw.length, createHash('sha256').update(row.raw).digest());
  return hash.digest('hex');
}

async function targetChecksum(client: pg.ClientBase): Promise<string> {
  const hash = createHash('sha256');
  for (let after = 0; ; ) {
    const rows = await target.rawDigestsAfter(client, after, CHECKSUM_PAGE);
    if (rows.length === 0) return hash.digest('hex');
    for (const row of rows) frame(hash, row.seq, row.length, row.digest);
    after = rows.at(-1)!.seq;
  }
}

/** Progress on stderr: one line rewritten in place on a terminal, a line now and then otherwise (logs, CI). */
class Progress {
  private printedAt = 0;
  private lastLabel = '';
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    /** Rows between two lines when stderr is not a terminal. */
    private readonly lineEvery: number,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(label: string, copied: number, total: number): void {
    const line = `copying ${label}: ${copied} of ${total}${total > 0 ? ` (${Math.floor((copied / total) * 100)}%)` : ''}`;
    if (this.tty) {
      this.stream.write(`\r${line}\x1b[K`);
    } else if (label !== this.lastLabel || copied === total || copied - this.printedAt >= this.lineEvery) {
      this.stream.write(`${line}\n`);
      this.printedAt = copied;
    }
    this.lastLabel = label;
  }

  note(text: string): void {
    this.stream.write(this.tty ? `\r${text}…\x1b[K` : `${text}…\n`);
  }

  end(): void {
    if (this.tty) this.stream.write('\r\x1b[K');
  }
}
