// The second half of the one storage conformance suite (test/store/conformance.test.ts calls it), written only against
// the Storage interface; vitest runs that file once per backend (TEST_BACKEND, see vitest.config.ts).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventType } from '../../src/chatlio/index.js';
import { parseSearchQuery } from '../../src/store/search-terms.js';
import type { ClaimRequest, DeliveryPlan, NewEvent, Storage } from '../../src/store/storage.js';

export type StorageFactory = () => Promise<Storage>;

let unique = 0;

export type EventSpec = {
  type?: EventType;
  text?: string;
  tags?: string[];
  conversation?: string | null;
  visitorUUID?: string | null;
  visitorEmail?: string | null;
  rating?: 'up' | 'down' | null;
  receivedAt?: number;
  firstResponseSeconds?: number;
  plan?: Partial<DeliveryPlan>;
  /** Fixed bytes (a duplicate test sends the same twice); unique by default. */
  raw?: string;
};

/** A NewEvent as the ingest pipeline would hand it over. */
export function newEvent(spec: EventSpec = {}): NewEvent {
  unique += 1;
  const type = spec.type ?? 'transcript';
  const raw = Buffer.from(spec.raw ?? JSON.stringify({ n: unique, pid: process.pid, at: Date.now(), text: spec.text ?? '' }));
  const searchable = { text: spec.text ?? '', tags: spec.tags ?? [] };
  return {
    type,
    receivedAt: spec.receivedAt ?? Date.now(),
    raw,
    bodySha256: createHash('sha256').update(`${type}\n`).update(raw).digest(),
    identity: {
      conversationUUID: spec.conversation ?? null,
      visitorUUID: spec.visitorUUID ?? null,
      visitorEmail: spec.visitorEmail ?? null,
      visitorName: null,
      rating: spec.rating ?? null,
    },
    searchable: spec.firstResponseSeconds === undefined ? searchable : { ...searchable, firstResponseSeconds: spec.firstResponseSeconds },
    plan: { create: spec.plan?.create ?? [], cancel: spec.plan?.cancel ?? [] },
  };
}

export const claimOf = (handler: string, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  handler,
  concurrency: 10,
  leaseMs: 60_000,
  unlessFollowedBy: [],
  ...overrides,
});

export function storageConformance(name: string, makeStorage: StorageFactory): void {
  describe(`${name}: the storage contract`, () => {
    // The factory's owner closes what it opened (test/store/conformance.test.ts: after each test).
    const fresh = makeStorage;

    describe('ingest', () => {
      it('stores an event and reads it back by its public id', async () => {
        const storage = await fresh();
        const event = newEvent({ conversation: 'conv-1', visitorEmail: 'ana@example.com', rating: 'up' });
        const result = await storage.ingest(event);
        expect(result).toMatchObject({ duplicate: false, deliveriesCreated: 0 });
        expect(result.id).toMatch(/^evt_[0-9a-z]{18}$/);
        expect(storage.parseEventId(result.id)).toBe(result.seq);
        const row = await storage.getEvent(result.seq);
        expect(row).toMatchObject({ id: result.id, type: 'transcript', conversationUUID: 'conv-1', visitorEmail: 'ana@example.com', rating: 'up' });
        expect(row!.raw.equals(event.raw)).toBe(true);
        expect(row!.receivedAt).toBe(event.receivedAt);
      });

      it('answers the same seq, marked duplicate, for the same bytes sent again, and plans nothing the second time', async () => {
        const storage = await fresh();
        const event = newEvent({ raw: '{"same":"bytes"}', plan: { create: [{ handler: 'slack', dueAt: 0, conversationUUID: null }] } });
        const first = await storage.ingest(event);
        const again = await storage.ingest({ ...event, receivedAt: event.receivedAt + 5 });
        expect(first).toMatchObject({ duplicate: false, deliveriesCreated: 1 });
        expect(again).toMatchObject({ seq: first.seq, duplicate: true, deliveriesCreated: 0 });
        expect(await storage.deliveriesForEvent(first.seq)).toHaveLength(1);
      });

      it('stores the same bytes sent twice in one batch once, the first as new and the second as its duplicate', async () => {
        const storage = await fresh();
        const event = newEvent({ raw: '{"twice":"in one turn"}', plan: { create: [{ handler: 'slack', dueAt: 0, conversationUUID: null }] } });
        const [a, b, other] = await Promise.all([storage.ingest(event), storage.ingest(event), storage.ingest(newEvent())]);
        expect(a).toMatchObject({ duplicate: false, deliveriesCreated: 1 });
        expect(b).toMatchObject({ seq: a.seq, duplicate: true, deliveriesCreated: 0 });
        expect(other!.duplicate).toBe(false);
        expect(await storage.deliveriesForEvent(a.seq)).toHaveLength(1);
      });

      it('treats the same bytes on another route as another event', async () => {
        const storage = await fresh();
        const a = await storage.ingest(newEvent({ type: 'transcript', raw: '{"x":1}' }));
        const b = await storage.ingest(newEvent({ type: 'feedback', raw: '{"x":1}' }));
        expect(b.duplicate).toBe(false);
        expect(b.seq).not.toBe(a.seq);
      });

      it('gives events ingested concurrently distinct seqs, more than one batch holds', async () => {
        const storage = await fresh();
        const results = await Promise.all(Array.from({ length: 1200 }, () => storage.ingest(newEvent())));
        const seqs = results.map((result) => result.seq);
        expect(new Set(seqs).size).toBe(1200);
        expect(results.every((result) => !result.duplicate)).toBe(true);
      });

      it('applies the plan with the event: deliveries created, earlier escalations of the conversation cancelled by it', async () => {
        const storage = await fresh();
        const now = Date.now();
        const first = await storage.ingest(
          newEvent({
            type: 'conversation-started',
            conversation: 'conv-esc',
            plan: {
              create: [
                { handler: 'escalate', dueAt: now + 60_000, conversationUUID: 'conv-esc' },
                { handler: 'slack', dueAt: now, conversationUUID: null },
              ],
            },
          }),
        );
        // Another conversation's escalation must survive.
        const other = await storage.ingest(
          newEvent({ conversation: 'conv-other', plan: { create: [{ handler: 'escalate', dueAt: now + 60_000, conversationUUID: 'conv-other' }] } }),
        );
        const answer = await storage.ingest(
          newEvent({ type: 'transcript', conversation: 'conv-esc', plan: { cancel: [{ handler: 'escalate', conversationUUID: 'conv-esc' }] } }),
        );
        const deliveries = await storage.deliveriesForEvent(first.seq);
        expect(deliveries.map((d) => [d.handler, d.status, d.cancelledBy])).toEqual([
          ['escalate', 'cancelled', answer.id],
          ['slack', 'pending', null],
        ]);
        expect((await storage.deliveriesForEvent(other.seq))[0]!.status).toBe('pending');
      });

      it('cancels an escalation planned earlier in the same batch, but never by its own event', async () => {
        const storage = await fresh();
        const now = Date.now();
        const escalation = { handler: 'escalate', dueAt: now + 60_000, conversationUUID: 'conv-batch' };
        const cancel = { handler: 'escalate', conversationUUID: 'conv-batch' };
        const [started, answered] = await Promise.all([
          storage.ingest(newEvent({ conversation: 'conv-batch', plan: { create: [escalation], cancel: [cancel] } })),
          storage.ingest(newEvent({ conversation: 'conv-batch', plan: { cancel: [cancel] } })),
        ]);
        const [delivery] = await storage.deliveriesForEvent(started.seq);
        expect(delivery).toMatchObject({ status: 'cancelled', cancelledBy: answered.id });
      });

      it('fails only the bad event of a batch: the others are stored', async () => {
        const storage = await fresh();
        // A delivery without a handler name breaks a NOT NULL constraint on both backends.
        const bad = newEvent({ plan: { create: [{ handler: null as unknown as string, dueAt: 0, conversationUUID: null }] } });
        const outcomes = await Promise.allSettled([storage.ingest(newEvent({ text: 'first good' })), storage.ingest(bad), storage.ingest(newEvent({ text: 'second good' }))]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        for (const outcome of outcomes) {
          if (outcome.status === 'fulfilled') expect(await storage.getEvent(outcome.value.seq)).toBeDefined();
        }
        const page = await storage.listEvents({}, { limit: 10 });
        expect(page.rows).toHaveLength(2);
      });
    });

    describe('search', () => {
      const search = async (storage: Storage, query: string, filter = {}) =>
        (await storage.listEvents({ ...filter, search: parseSearchQuery(query) }, { limit: 50 })).rows.map((row) => row.seq);

      it('finds words case-insensitively and without accents, phrases in order, and prefixes', async () => {
        const storage = await fresh();
        const cafe = await storage.ingest(newEvent({ text: 'Le Café est fermé\nMerci beaucoup' }));
        const refund = await storage.ingest(newEvent({ text: 'I want a REFUND for order 12345' }));
        const reversed = await storage.ingest(newEvent({ text: 'order want I' }));
        expect(await search(storage, 'cafe')).toEqual([cafe.seq]);
        expect(await search(storage, 'CAFÉ FERME')).toEqual([cafe.seq]);
        expect(await search(storage, '"want a refund"')).toEqual([refund.seq]);
        expect(await search(storage, '"refund want"')).toEqual([]);
        expect(await search(storage, 'ref*')).toEqual([refund.seq]);
        expect(await search(storage, '"for ord"*')).toEqual([refund.seq]);
        expect(await search(storage, 'want order')).toEqual([reversed.seq, refund.seq]);
        expect(await search(storage, '1234')).toEqual([]);
        expect(await search(storage, '1234*')).toEqual([refund.seq]);
        // A phrase may run across two fields (one per line), as on SQLite.
        expect(await search(storage, '"fermé merci"')).toEqual([cafe.seq]);
      });

      it('never reads search operators from what a user typed, and never errors on hostile strings', async () => {
        const storage = await fresh();
        const words = await storage.ingest(newEvent({ text: 'near and or not col' }));
        await storage.ingest(newEvent({ text: 'unrelated' }));
        expect(await search(storage, 'AND OR')).toEqual([words.seq]);
        for (const hostile of ['AND OR ( " NEAR( col:', "'; DROP TABLE events; --", 'a & b | !c <-> d:*', 'x\\ \' ":* (', 'NOT near', 'col:near']) {
          await expect(search(storage, hostile)).resolves.toBeInstanceOf(Array);
        }
        expect(await search(storage, 'NEAR( col:')).toEqual([words.seq]);
        expect(await search(storage, 'a & b')).toEqual([]);
      });

      it('matches tags exactly, never as words of the text, and never a search word as a tag', async () => {
        const storage = await fresh();
        const tagged = await storage.ingest(newEvent({ text: 'hello', tags: ['feature-request', 'vip'] }));
        const wordy = await storage.ingest(newEvent({ text: 'a feature request from a vip' }));
        const list = async (tag: string) => (await storage.listEvents({ tag }, { limit: 10 })).rows.map((row) => row.seq);
        expect(await list('feature-request')).toEqual([tagged.seq]);
        expect(await list('vip')).toEqual([tagged.seq]);
        expect(await list('feature')).toEqual([]);
        expect(await search(storage, 'vip')).toEqual([wordy.seq]);
        expect(await search(storage, 'hello', { tag: 'vip' })).toEqual([tagged.seq]);
      });

      // PostgreSQL walks the newest 20,000 events first and then asks the GIN index for the older ones (see
      // RECENT_WINDOW in src/store/postgres/events.ts): pages must join up across that seam, with or without a byte budget.
      it('finds words and tags in events older than the newest 20,000, page by page, newest first', async () => {
        const storage = await fresh();
        const rareAt = new Set([10, 500, 1_000]);
        const texts = Array.from({ length: 21_500 }, (_, i) => `${i % 2 === 0 ? 'common' : 'other'}${rareAt.has(i) ? ' rareword' : ''}`);
        const seqs: number[] = [];
        for (let start = 0; start < texts.length; start += 500) {
          const batch = texts.slice(start, start + 500).map((text, j) => newEvent({ text, tags: start + j === 20 || start + j === 30 ? ['oldtag'] : [] }));
          seqs.push(...(await Promise.all(batch.map((event) => storage.ingest(event)))).map((result) => result.seq));
        }
        const newestFirst = (indexes: number[]) => indexes.map((i) => seqs[i]!).sort((a, b) => b - a);
        for (const maxBytes of [undefined, 1_000_000]) {
          const walk = async (filter: Parameters<Storage['listEvents']>[0], limit: number, before?: number) => {
            const pages: number[][] = [];
            for (let cursor = before; ; ) {
              const page = await storage.listEvents(filter, { before: cursor, limit, maxBytes });
              pages.push(page.rows.map((row) => row.seq));
              if (page.next === null) return pages;
              cursor = page.next;
            }
          };
          expect(await walk({ search: parseSearchQuery('rareword') }, 2)).toEqual([newestFirst([500, 1_000]), newestFirst([10])]);
          expect(await walk({ search: parseSearchQuery('rare*') }, 5)).toEqual([newestFirst([10, 500, 1_000])]);
          expect(await walk({ search: parseSearchQuery('rareword') }, 5, seqs[20_600])).toEqual([newestFirst([10, 500, 1_000])]);
          expect(await walk({ tag: 'oldtag' }, 1)).toEqual([newestFirst([30]), newestFirst([20])]);
          expect(await walk({ search: parseSearchQuery('nowhere') }, 50)).toEqual([[]]);
          const common = texts.flatMap((text, i) => (text.startsWith('common') ? [i] : []));
          expect((await storage.listEvents({ search: parseSearchQuery('common') }, { limit: 50, maxBytes })).rows.map((row) => row.seq)).toEqual(newestFirst(common).slice(0, 50));
          const deep = (await walk({ search: parseSearchQuery('common') }, 400, seqs[3_000])).flat();
          expect(deep).toEqual(newestFirst(common.filter((i) => seqs[i]! < seqs[3_000]!)));
        }
      });
    });

    describe('listing events', () => {
      it('applies every filter, alone and together, newest first', async () => {
        const storage = await fresh();
        const t0 = Date.UTC(2026, 0, 1);
        const a = await storage.ingest(newEvent({ type: 'transcript', conversation: 'c1', visitorUUID: 'v1', visitorEmail: 'ana@example.com', rating: 'up', receivedAt: t0 }));
        const b = await storage.ingest(newEvent({ type: 'feedback', conversation: 'c1', visitorUUID: 'v1', rating: 'down', receivedAt: t0 + 1000 }));
        const c = await storage.ingest(newEvent({ type: 'offline-message', visitorEmail: 'bob@example.com', receivedAt: t0 + 2000, text: 'shipping' }));
        const d = await storage.ingest(newEvent({ type: 'unanswered', conversation: 'c2', visitorUUID: 'v2', receivedAt: t0 + 3000 }));
        const seqs = async (filter: Parameters<Storage['listEvents']>[0]) => (await storage.listEvents(filter, { limit: 10 })).rows.map((row) => row.seq);
        expect(await seqs({})).toEqual([d.seq, c.seq, b.seq, a.seq]);
        expect(await seqs({ types: ['transcript', 'unanswered'] })).toEqual([d.seq, a.seq]);
        expect(await seqs({ conversation: 'c1' })).toEqual([b.seq, a.seq]);
        expect(await seqs({ visitor: 'v1' })).toEqual([b.seq, a.seq]);
        expect(await seqs({ visitor: 'ANA@Example.com' })).toEqual([a.seq]);
        expect(await seqs({ rating: 'down' })).toEqual([b.seq]);
        expect(await seqs({ since: t0 + 1000, until: t0 + 3000 })).toEqual([c.seq, b.seq]);
        expect(await seqs({ conversation: 'c1', rating: 'up', types: ['transcript'] })).toEqual([a.seq]);
        expect(await seqs({ search: parseSearchQuery('shipping'), since: t0 })).toEqual([c.seq]);
        expect(await seqs({ visitor: 'nobody@example.com' })).toEqual([]);
      });

      it('walks pages with the cursor, each event once', async () => {
        const storage = await fresh();
        const stored = [];
        for (let i = 0; i < 7; i += 1) stored.push((await storage.ingest(newEvent())).seq);
        const seen: number[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await storage.listEvents({}, { before, limit: 3 });
          seen.push(...page.rows.map((row) => row.seq));
          if (page.next === null) break;
          before = page.next;
        }
        expect(seen).toEqual([...stored].reverse());
      });

      it('answers a conversation oldest first', async () => {
        const storage = await fresh();
        const a = await storage.ingest(newEvent({ conversation: 'conv-x' }));
        await storage.ingest(newEvent({ conversation: 'conv-y' }));
        const b = await storage.ingest(newEvent({ conversation: 'conv-x' }));
        expect((await storage.conversation('conv-x')).map((row) => row.seq)).toEqual([a.seq, b.seq]);
      });
    });

    describe('erasure and retention', () => {
      it('deletes one event with its deliveries and search words', async () => {
        const storage = await fresh();
        const event = await storage.ingest(newEvent({ text: 'erase me', plan: { create: [{ handler: 'slack', dueAt: 0, conversationUUID: null }] } }));
        const [delivery] = await storage.deliveriesForEvent(event.seq);
        expect(await storage.deleteEvent(event.seq)).toBe(true);
        expect(await storage.deleteEvent(event.seq)).toBe(false);
        expect(await storage.getEvent(event.seq)).toBeUndefined();
        expect(await storage.getDelivery(delivery!.seq)).toBeUndefined();
        expect((await storage.listEvents({ search: parseSearchQuery('erase') }, { limit: 5 })).rows).toEqual([]);
      });

      it('erases a visitor by email with the UUIDs seen beside it, and the rejected bodies mentioning either', async () => {
        const storage = await fresh();
        await storage.ingest(newEvent({ visitorEmail: 'ana@example.com', visitorUUID: 'uuid-ana' }));
        await storage.ingest(newEvent({ visitorUUID: 'uuid-ana' }));
        const kept = await storage.ingest(newEvent({ visitorEmail: 'bob@example.com', visitorUUID: 'uuid-bob' }));
        const rejected = { type: 'transcript' as const, receivedAt: Date.now(), errors: [{ path: 'x', message: 'bad' }] };
        await storage.insertRejection({ ...rejected, raw: Buffer.from('{"email":"ANA@EXAMPLE.COM"}') });
        await storage.insertRejection({ ...rejected, raw: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('uuid-ana')]) });
        const other = await storage.insertRejection({ ...rejected, raw: Buffer.from('{"email":"bob@example.com"}') });
        expect(await storage.deleteVisitor('Ana@Example.com')).toEqual({ events: 2, rejections: 2 });
        expect((await storage.listEvents({}, { limit: 10 })).rows.map((row) => row.seq)).toEqual([kept.seq]);
        expect((await storage.listRejections({ limit: 10 })).map((row) => row.id)).toEqual([other]);
      });

      it('deletes the oldest events before a cutoff in batches', async () => {
        const storage = await fresh();
        const t0 = Date.UTC(2025, 5, 1);
        for (let i = 0; i < 5; i += 1) await storage.ingest(newEvent({ receivedAt: t0 + i }));
        const recent = await storage.ingest(newEvent({ receivedAt: t0 + 10_000 }));
        expect(await storage.deleteOlderThan(t0 + 5, 3)).toBe(3);
        expect(await storage.deleteOlderThan(t0 + 5, 3)).toBe(2);
        expect(await storage.deleteOlderThan(t0 + 5, 3)).toBe(0);
        expect((await storage.listEvents({}, { limit: 10 })).rows.map((row) => row.seq)).toEqual([recent.seq]);
      });
    });

    describe('stats', () => {
      it('counts by type and UTC day, ratings, first responses and deliveries within the range only', async () => {
        const storage = await fresh();
        const day = Date.UTC(2026, 2, 10);
        const slack = { create: [{ handler: 'slack', dueAt: 0, conversationUUID: null }] };
        await storage.ingest(newEvent({ type: 'transcript', receivedAt: day + 1000, rating: 'up', firstResponseSeconds: 12.5, plan: slack }));
        await storage.ingest(newEvent({ type: 'transcript', receivedAt: day + 86_399_999, rating: 'down', firstResponseSeconds: 3 }));
        await storage.ingest(newEvent({ type: 'feedback', receivedAt: day + 86_400_000, rating: 'up', plan: slack }));
        await storage.ingest(newEvent({ type: 'feedback', receivedAt: day - 1, firstResponseSeconds: 99, plan: slack }));
        const range = { since: day, until: day + 2 * 86_400_000 };
        expect(await storage.countsByTypeAndDay(range)).toEqual([
          { type: 'transcript', day: '2026-03-10', n: 2 },
          { type: 'feedback', day: '2026-03-11', n: 1 },
        ]);
        expect(await storage.ratings(range)).toEqual({ up: 2, down: 1 });
        expect(await storage.firstResponseSeconds(range)).toEqual([12.5, 3]);
        expect(await storage.deliveryCounts(range)).toEqual({ pending: 2, running: 0, failed: 0, succeeded: 0, dead: 0, cancelled: 0 });
      });
    });

    describe('rejections', () => {
      it('keeps bodies with their errors, newest first, and drops the oldest past the cap', async () => {
        const storage = await fresh();
        const ids: number[] = [];
        for (let i = 0; i < 3; i += 1) {
          ids.push(await storage.insertRejection({ type: 'feedback', receivedAt: 1000 + i, raw: Buffer.from(`body ${i}`), errors: [{ path: 'p', message: `m${i}` }] }));
        }
        const row = await storage.getRejection(ids[2]!);
        expect(row).toMatchObject({ id: ids[2], type: 'feedback', receivedAt: 1002, errors: [{ path: 'p', message: 'm2' }] });
        expect(row!.raw.toString()).toBe('body 2');
        expect((await storage.listRejections({ limit: 2 })).map((r) => r.id)).toEqual([ids[2], ids[1]]);
        expect((await storage.listRejections({ before: ids[1], limit: 2 })).map((r) => r.id)).toEqual([ids[0]]);
        await storage.removeRejection(ids[0]!);
        expect(await storage.getRejection(ids[0]!)).toBeUndefined();
      });
    });

    describe('deliveries', () => {
      const plan = (handler: string, dueAt: number, conversationUUID: string | null = null) => ({ create: [{ handler, dueAt, conversationUUID }] });

      it('claims due deliveries most overdue first, within the concurrency, and records the outcome', async () => {
        const storage = await fresh();
        const now = Date.now();
        const late = await storage.ingest(newEvent({ plan: plan('http', now - 5000) }));
        const later = await storage.ingest(newEvent({ plan: plan('http', now - 9000) }));
        await storage.ingest(newEvent({ plan: plan('http', now + 60_000) }));
        await storage.ingest(newEvent({ plan: plan('other', now - 9000) }));
        // A lease longer than the clock jump below: PostgreSQL keeps leases by the database's clock, SQLite by `now`.
        const claimed = await storage.claimDue(claimOf('http', { concurrency: 5, leaseMs: 600_000 }), now);
        expect(claimed.map((d) => d.eventSeq)).toEqual([later.seq, late.seq]);
        expect(claimed[0]).toMatchObject({ status: 'running', attempts: 1, attempt: 1, dueAt: null, handler: 'http' });
        expect(claimed[0]!.claimToken).toEqual(expect.any(String));
        // Both slots of a concurrency of 2 are taken now.
        expect(await storage.claimDue(claimOf('http', { concurrency: 2 }), now + 120_000)).toEqual([]);

        const ok = await storage.recordAttempt(
          { deliverySeq: claimed[0]!.seq, attemptId: claimed[0]!.attemptId, claimToken: claimed[0]!.claimToken, durationMs: 12.4, outcome: 'succeeded', statusCode: 200, response: 'fine', externalId: 'T-1', state: { step: 2 }, next: { status: 'succeeded' } },
          now + 50,
        );
        expect(ok).toBe(true);
        expect(await storage.getDelivery(claimed[0]!.seq)).toMatchObject({ status: 'succeeded', externalId: 'T-1', state: { step: 2 }, lastStatusCode: 200, updatedAt: now + 50 });
        expect(await storage.attempts(claimed[0]!.seq)).toEqual([{ attempt: 1, startedAt: now, durationMs: 12, outcome: 'succeeded', statusCode: 200, error: null, response: 'fine' }]);
      });

      it('records nothing for a stale claim token', async () => {
        const storage = await fresh();
        const now = Date.now();
        await storage.ingest(newEvent({ plan: plan('http', now) }));
        const [claimed] = await storage.claimDue(claimOf('http'), now);
        const record = { deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, durationMs: 1, outcome: 'failed' as const, error: 'boom', next: { status: 'failed' as const, dueAt: now + 1000 } };
        expect(await storage.recordAttempt({ ...record, claimToken: 'not-the-token' }, now)).toBe(false);
        expect(await storage.getDelivery(claimed!.seq)).toMatchObject({ status: 'running' });
        expect(await storage.recordAttempt({ ...record, claimToken: claimed!.claimToken }, now)).toBe(true);
        expect(await storage.recordAttempt({ ...record, claimToken: claimed!.claimToken }, now)).toBe(false);
        expect(await storage.getDelivery(claimed!.seq)).toMatchObject({ status: 'failed', dueAt: now + 1000, lastError: 'boom' });
      });

      it('cancels at claim time an escalation whose conversation already has a later cancelling event', async () => {
        const storage = await fresh();
        const now = Date.now();
        const started = await storage.ingest(newEvent({ type: 'conversation-started', conversation: 'conv-late', plan: plan('escalate', now - 1, 'conv-late') }));
        // Planned without the cancel (as if it committed on another replica before the planner knew the handler).
        const answer = await storage.ingest(newEvent({ type: 'transcript', conversation: 'conv-late' }));
        const claimed = await storage.claimDue(claimOf('escalate', { unlessFollowedBy: ['transcript'] }), now);
        expect(claimed).toEqual([]);
        expect((await storage.deliveriesForEvent(started.seq))[0]).toMatchObject({ status: 'cancelled', cancelledBy: answer.id });
      });

      it('reaps only expired leases: back to pending, due now, the open attempt interrupted', async () => {
        const storage = await fresh();
        const now = Date.now();
        const short = await storage.ingest(newEvent({ plan: plan('short', now) }));
        await storage.ingest(newEvent({ plan: plan('long', now) }));
        await storage.claimDue(claimOf('short', { leaseMs: 1 }), now);
        await storage.claimDue(claimOf('long', { leaseMs: 600_000 }), now);
        const deadline = Date.now() + 5000;
        let reaped = 0;
        while (reaped === 0 && Date.now() < deadline) reaped = await storage.reapExpiredLeases(now + 10);
        expect(reaped).toBe(1);
        const [delivery] = await storage.deliveriesForEvent(short.seq);
        expect(delivery).toMatchObject({ status: 'pending', dueAt: now + 10 });
        expect((await storage.attempts(delivery!.seq))[0]!.outcome).toBe('interrupted');
        expect(await storage.reapExpiredLeases(now + 20)).toBe(0);
        // The backlog's rows come in no promised order.
        const rows = (await storage.backlog()).byHandlerAndStatus;
        expect([...rows].sort((a, b) => a.handler.localeCompare(b.handler))).toEqual([
          { handler: 'long', status: 'running', count: 1 },
          { handler: 'short', status: 'pending', count: 1 },
        ]);
      });

      it('answers the next due time, lists, redelivers one event and in bulk', async () => {
        const storage = await fresh();
        const now = Date.now();
        const t0 = Date.UTC(2026, 4, 1);
        const a = await storage.ingest(newEvent({ receivedAt: t0, plan: plan('http', now + 1000) }));
        const b = await storage.ingest(newEvent({ receivedAt: t0 + 5000, plan: plan('http', now + 2000) }));
        expect(await storage.nextDueAt(['http', 'none'])).toBe(now + 1000);
        expect(await storage.nextDueAt(['none'])).toBeUndefined();
        expect((await storage.backlog()).oldestDueAt).toBe(now + 1000);

        const redelivered = await storage.redeliverEvent(a.seq, { create: ['added'], handlers: undefined }, now);
        expect(redelivered.map((d) => [d.handler, d.status, d.manual, d.dueAt])).toEqual([
          ['http', 'pending', true, now],
          ['added', 'pending', true, now],
        ]);
        const listed = await storage.listDeliveries({ handler: 'http' }, { limit: 10 });
        expect(listed.map((d) => d.eventSeq)).toEqual([b.seq, a.seq]);
        expect((await storage.listDeliveries({ status: 'pending' }, { before: listed[0]!.seq, limit: 10 })).map((d) => d.seq)).toEqual([listed[1]!.seq]);
        expect(storage.parseDeliveryId(listed[0]!.id)).toBe(listed[0]!.seq);
        expect(listed[0]!.eventId).toBe(b.id);

        expect(await storage.redeliverAll({ status: 'pending', handler: 'http', since: t0 + 1, until: t0 + 10_000 }, now + 7)).toBe(1);
        expect(await storage.getDelivery(listed[0]!.seq)).toMatchObject({ manual: true, dueAt: now + 7 });
        expect(await storage.redeliverAll({ status: 'pending' }, now + 8)).toBe(3);
      });

      it('wakes its own listeners after a commit that created deliveries', async () => {
        const storage = await fresh();
        let woken = 0;
        const stop = storage.onDeliveriesDue(() => (woken += 1));
        await storage.ingest(newEvent({ plan: plan('http', Date.now()) }));
        const deadline = Date.now() + 5000;
        while (woken === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(woken).toBeGreaterThan(0);
        stop();
      });
    });

    describe('operations', () => {
      it('takes a durable write, measures its size, and runs a singleton job', async () => {
        const storage = await fresh();
        await storage.probeWrite();
        expect(await storage.sizeBytes()).toBeGreaterThan(0);
        expect(await storage.singleton('retention', async () => 42)).toBe(42);
      });
    });
  });
}
