// Makes (or reuses) a database of generated Chatlio events of realistic mix for the query benchmarks.
// Usage: tsx bench/generate.ts [DATA_DIR] (default bench/out/query-1m); EVENTS=1000000 sets the count. With
// DATABASE_URL set, the same events are then copied into that PostgreSQL database by `copy-to-postgres`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { identify, type EventType, type Payload } from '../src/chatlio/index.js';
import { searchableOf } from '../src/chatlio/searchable.js';
import { DB_FILE, databaseIds, openDb } from '../src/store/sqlite/db.js';
import { eventStore } from '../src/store/sqlite/events.js';
import { searchStore } from '../src/store/sqlite/search.js';
import { copyToPostgresCommand } from '../src/cli/copy-to-postgres.js';

export const DEFAULT_DATA_DIR = join(import.meta.dirname, 'out', 'query-1m');
export const DEFAULT_COUNT = 1_000_000;
const DAYS = 180;
const BATCH = 2_000;

/** mulberry32: the same seed makes the same database, so figures are comparable between runs. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const FIRST = ['Anna', 'Ben', 'Chloé', 'David', 'Emma', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jamal', 'Kofi', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Yuki'];
const LAST = ['Smith', 'Müller', 'García', 'Rossi', 'Kowalski', 'Nakamura', 'Okafor', 'Dubois', 'Silva', 'Johansson', 'Haddad', 'Novak'];
const PRODUCTS = ['starter plan', 'pro plan', 'team plan', 'invoice', 'refund', 'widget', 'api key', 'slack integration', 'zendesk sync', 'mobile app', 'webhook', 'password reset', 'export', 'dashboard'];
const VISITOR_LINES = [
  'Hi, I have a question about the {p}',
  'Is the {p} included in my subscription?',
  'I was charged twice for the {p}, can you help?',
  'The {p} does not load since this morning',
  'How do I cancel the {p}?',
  'Can I get a refund for the {p}?',
  'Thanks, that fixed it!',
  'Where do I find the settings for the {p}?',
  'It says error 500 when I open the {p}',
  'Do you offer a discount on the {p} for nonprofits?',
];
const AGENT_LINES = [
  'Hello! Happy to help with the {p}.',
  'Let me check your account, one moment please.',
  'I have issued a refund, you should see it in 3-5 business days.',
  'Could you send me a screenshot of the error?',
  'The {p} is part of the pro plan.',
  'That was a known issue, it is fixed now.',
  'You can find it under Settings → Integrations.',
  'Anything else I can help you with?',
];
const TAGS = ['billing', 'bug', 'urgent', 'sales', 'feature-request', 'churn-risk', 'vip', 'followup'];
const FEEDBACK = ['Great support, will use again!', 'Took too long to get an answer.', 'Very helpful, thanks', 'Did not solve my problem', ''];
const AGENTS = [
  { name: 'Some One', email: 'someone@yourcompany.com', id: 'U0N2GKA2G' },
  { name: 'Alex Agent', email: 'alex@yourcompany.com', id: 'U0N2GKA3H' },
  { name: 'Sam Support', email: 'sam@yourcompany.com', id: 'U0N2GKA4J' },
];

const uuid = (rng: ReturnType<typeof random>) =>
  'xxxxxxxx-xxxx-4xxx-9xxx-xxxxxxxxxxxx'.replace(/x/g, () => rng.int(16).toString(16));

type Visitor = { UUID: string; email: string; name: string; handle: string };

function visitorObject(v: Visitor) {
  return {
    email: v.email,
    UUID: v.UUID,
    name: v.name,
    identUserId: '',
    identTraits: '',
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    handle: v.handle,
    currentPage: 'https://example.com/pricing',
    referrerURL: '',
    createdAt: '2026-06-01T10:00:00.123456789+02:00',
    IPAddress: '203.0.113.7',
    location: 'Berlin, Germany',
  };
}

type Generated = { type: EventType; payload: Record<string, unknown> };

/** One chat: it starts, maybe goes unanswered, ends with one or two transcripts, maybe feedback. */
function chat(rng: ReturnType<typeof random>, visitor: Visitor, startSec: number): Generated[] {
  const conversationUUID = uuid(rng);
  const product = rng.pick(PRODUCTS);
  const fill = (line: string) => line.replace('{p}', product);
  const shared = (message: string) => ({
    visitor: visitorObject(visitor),
    message,
    conversationUUID,
    channelId: 'C03FVS2UR',
    slackChannelName: 'live-chat',
    slackChannelId: 'C1XPVTNKR',
  });
  const first = fill(rng.pick(VISITOR_LINES));
  const out: Generated[] = [{ type: 'conversation-started', payload: shared(first) }];
  if (rng.chance(0.1)) out.push({ type: 'unanswered', payload: shared(first) });
  const agent = rng.pick(AGENTS);
  const messages: Array<Record<string, unknown>> = [];
  let at = startSec;
  const count = 4 + rng.int(14);
  for (let i = 0; i < count; i++) {
    const fromVisitor = i === 0 || rng.chance(0.5);
    at += 5 + rng.int(i === 1 ? 240 : 90);
    messages.push({
      text: i === 0 ? first : fill(rng.pick(fromVisitor ? VISITOR_LINES : AGENT_LINES)),
      ts: `${at}.${String(rng.int(999999)).padStart(6, '0')}`,
      sentAt: new Date(at * 1000).toISOString(),
      userId: fromVisitor ? '' : agent.id,
      username: fromVisitor ? visitor.handle : agent.name,
      isVisitorMsg: fromVisitor,
    });
  }
  const rated = rng.chance(0.4);
  const rating = rated ? (rng.chance(0.8) ? 'up' : 'down') : '';
  const feedback = rated ? rng.pick(FEEDBACK) : '';
  const transcript = (extraData: string[], upTo: number) => ({
    agentEmail: agent.email,
    agentName: agent.name,
    archiveUrl: 'https://yourcompany.slack.com/archives/cl-tiger128',
    extraData,
    channelId: 'C03FVS2UR',
    channelName: visitor.handle,
    conversationUUID,
    endedAt: new Date(at * 1000).toISOString(),
    chatRating: upTo === messages.length ? rating : '',
    chatFeedback: upTo === messages.length ? feedback : '',
    htmlBody: messages.slice(0, upTo).map((m) => `<p><b>${m.username as string}</b>: ${m.text as string}</p>`).join(''),
    textBody: messages.slice(0, upTo).map((m) => `${m.username as string}: ${m.text as string}`).join('\n'),
    messages: messages.slice(0, upTo),
    startedAt: new Date(startSec * 1000).toISOString(),
    visitorEmail: visitor.email,
    replyToEmail: visitor.email || 'no-reply@chatlio.com',
    visitorName: visitor.name,
    visitorTraits: { current_page: 'https://example.com/pricing', logged_in: visitor.email ? 'true' : 'false' },
    visitor: visitorObject(visitor),
    slackTeamID: 'T0N1FQTOD',
  });
  // Some chats are tagged mid-chat with /chatlio send-to-webhook, which sends a partial transcript.
  if (rng.chance(0.15)) out.push({ type: 'transcript', payload: transcript([rng.pick(TAGS), ...(rng.chance(0.3) ? [rng.pick(TAGS)] : [])], Math.ceil(count / 2)) });
  out.push({ type: 'transcript', payload: transcript([], count) });
  if (rated && rng.chance(0.6)) out.push({ type: 'feedback', payload: { ...shared(''), chatRating: rating, chatFeedback: feedback } });
  return out;
}

function offline(rng: ReturnType<typeof random>, visitor: Visitor): Generated {
  const product = rng.pick(PRODUCTS);
  return {
    type: 'offline-message',
    payload: {
      name: visitor.name,
      email: visitor.email,
      emailPretty: visitor.email ? `"${visitor.name}" <${visitor.email}>` : '',
      subject: `Question about the ${product}`,
      message: rng.pick(VISITOR_LINES).replace('{p}', product),
      visitor: visitorObject(visitor),
    },
  };
}

function countEvents(path: string): number {
  const db = openDb(path, { synchronous: 'normal', busyTimeoutMs: 5000 });
  const { n } = db.prepare('SELECT count(*) AS n FROM events').get() as { n: number };
  db.close();
  return n;
}

/** Generates `count` events into DATA_DIR unless a database with at least that many is already there. */
export function ensureDatabase(dataDir = DEFAULT_DATA_DIR, count = DEFAULT_COUNT): { path: string; events: number; generated: boolean } {
  const path = join(dataDir, DB_FILE);
  if (existsSync(path)) {
    const events = countEvents(path);
    if (events >= count) return { path, events, generated: false };
    throw new Error(`${path} holds ${events} events, fewer than ${count}: delete ${dataDir} to make it again`);
  }
  const started = Date.now();
  const db = openDb(path, { synchronous: 'normal', busyTimeoutMs: 5000 });
  const events = eventStore(db, databaseIds(db));
  const search = searchStore(db);
  const rng = random(20261125);
  const visitors: Visitor[] = Array.from({ length: Math.ceil(count / 8) }, (_, i) => {
    const name = rng.chance(0.6) ? `${rng.pick(FIRST)} ${rng.pick(LAST)}` : '';
    const email = rng.chance(0.5) ? `${(name || 'visitor').toLowerCase().replace(/[^a-z]+/g, '.')}${i}@example.com` : '';
    return { UUID: uuid(rng), email, name, handle: `berlin-germany-${i}` };
  });
  const end = Date.now();
  const start = end - DAYS * 24 * 60 * 60 * 1000;
  const step = (end - start) / count;
  let made = 0;
  // Random picks sometimes repeat a body byte for byte; those are duplicates to the store, so only new events count.
  const insertBatch = db.transaction((batch: Generated[]) => {
    for (const event of batch) {
      if (made >= count) return;
      const raw = Buffer.from(JSON.stringify(event.payload));
      const receivedAt = Math.floor(start + made * step);
      const bodySha256 = createHash('sha256').update(event.type).update('\n').update(raw).digest();
      const payload = event.payload as Payload;
      const stored = events.insert({ type: event.type, receivedAt, raw, bodySha256, identity: identify(event.type, payload) });
      if (stored.duplicate) continue;
      search.index(stored.seq, searchableOf(event.type, payload));
      made++;
    }
  });
  let reported = 0;
  while (made < count) {
    const batch: Generated[] = [];
    while (batch.length < BATCH) {
      const atSec = Math.floor((start + (made + batch.length) * step) / 1000);
      batch.push(...(rng.chance(0.12) ? [offline(rng, rng.pick(visitors))] : chat(rng, rng.pick(visitors), atSec)));
    }
    insertBatch(batch);
    if (made - reported >= 100_000) {
      reported = made;
      process.stdout.write(`  ${made} events, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  process.stdout.write(`generated ${made} events in ${((Date.now() - started) / 1000).toFixed(0)} s into ${path}\n`);
  return { path, events: made, generated: true };
}

/** Events in the PostgreSQL database, 0 when it has no schema yet. */
async function countPostgresEvents(client: pg.Client): Promise<number> {
  const { rows: schema } = await client.query<{ events: string | null }>("SELECT to_regclass('events') AS events");
  if (schema[0]!.events === null) return 0;
  const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0]!.n);
}

/**
 * The same events in PostgreSQL: generated into the SQLite file first, then copied by `copy-to-postgres`, which
 * builds each event's tsvector, tags and first-response row from its body with the code ingest uses (and resumes an
 * interrupted copy). Reused when the database already holds the file's events.
 */
export async function ensurePostgresDatabase(url: string, dataDir = DEFAULT_DATA_DIR, count = DEFAULT_COUNT): Promise<{ events: number; generated: boolean }> {
  const sqlite = ensureDatabase(dataDir, count);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const present = await countPostgresEvents(client);
    if (present === sqlite.events) return { events: present, generated: false };
    const started = Date.now();
    const code = await copyToPostgresCommand.run(['--from', sqlite.path, '--to', url], {});
    if (code !== 0) throw new Error(`copy-to-postgres exited ${code}`);
    // A live database's autovacuum would have analysed the table long ago: without statistics (and the visibility
    // map) right after a bulk load, the planner would pick plans a running relay never sees.
    await client.query('VACUUM ANALYZE');
    process.stdout.write(`copied into PostgreSQL and analysed in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return { events: await countPostgresEvents(client), generated: true };
  } finally {
    await client.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dataDir = process.argv[2] ?? DEFAULT_DATA_DIR;
  const count = Number(process.env.EVENTS ?? DEFAULT_COUNT);
  const result = process.env.DATABASE_URL ? await ensurePostgresDatabase(process.env.DATABASE_URL, dataDir, count) : ensureDatabase(dataDir, count);
  if (!result.generated) process.stdout.write(`reusing the database (${result.events} events)\n`);
}
