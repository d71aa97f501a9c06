// The Storage contract, tested through the interface alone: every backend must pass this file unchanged. vitest runs it
// once per backend (the sqlite and postgres projects of vitest.config.ts); its second half is in ./conformance.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { ClaimRequest, Storage } from '../../src/store/storage.js';
import { parseSearchQuery } from '../../src/store/search-terms.js';
import { tempDir } from '../helpers/app.js';
import { TEST_BACKEND, testStorage } from '../helpers/storage.js';
import { storageConformance } from './conformance.js';
import { deliverTo, newEvent } from '../helpers/events.js';

const REJECTIONS_MAX = 3;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh, empty storage of the backend under test. */
async function makeStorage(): Promise<Storage> {
  const dataDir = tempDir('chatlio-relay-conformance-');
  const storage = await testStorage({ dataDir, rejectionsMax: REJECTIONS_MAX });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => storage.close());
  return storage;
}

const claim = (handler: string, options: Partial<ClaimRequest> = {}): ClaimRequest => ({
  handler,
  concurrency: 4,
  leaseMs: 10_000,
  unlessFollowedBy: [],
  ...options,
});

const T0 = Date.parse('2026-06-01T12:00:00Z');
const DAY = 86_400_000;

describe('ingest', () => {
  it('stores an event once: the same bytes on the same route are a duplicate that plans and indexes nothing', async () => {
    const storage = await makeStorage();
    const event = newEvent({ receivedAt: T0, text: 'hello world', plan: deliverTo(T0, 'a') });
    const first = await storage.ingest(event);
    const again = await storage.ingest({ ...event, receivedAt: T0 + 1000 });
    expect(first).toMatchObject({ duplicate: false, deliveriesCreated: 1 });
    expect(again).toEqual({ seq: first.seq, id: first.id, duplicate: true, deliveriesCreated: 0 });
    expect(await storage.deliveriesForEvent(first.seq)).toHaveLength(1);
    expect((await storage.listEvents({ search: parseSearchQuery('hello') }, { limit: 10 })).rows).toHaveLength(1);
    // The same bytes on another route are another event.
    const other = await storage.ingest(newEvent({ type: 'feedback', raw: event.raw.toString() }));
    expect(other.duplicate).toBe(false);
  });

  it('commits the planned deliveries with the event and reads the event back as stored', async () => {
    const storage = await makeStorage();
    const event = newEvent({ receivedAt: T0, conversation: 'c1', visitorUUID: 'v1', email: 'ann@example.com', name: 'Ann', rating: 'up', plan: deliverTo(T0 + 5000, 'a', 'b') });
    const { seq, id } = await storage.ingest(event);
    expect(storage.parseEventId(id)).toBe(seq);
    expect(storage.parseEventId('evt_nope')).toBeUndefined();
    expect(await storage.getEvent(seq)).toEqual({
      seq,
      id,
      type: 'transcript',
      receivedAt: T0,
      raw: event.raw,
      conversationUUID: 'c1',
      visitorUUID: 'v1',
      visitorEmail: 'ann@example.com',
      visitorName: 'Ann',
      rating: 'up',
    });
    const deliveries = await storage.deliveriesForEvent(seq);
    expect(deliveries.map((d) => [d.handler, d.status, d.dueAt, d.attempts, d.eventId])).toEqual([
      ['a', 'pending', T0 + 5000, 0, id],
      ['b', 'pending', T0 + 5000, 0, id],
    ]);
    expect(storage.parseDeliveryId(deliveries[0]!.id)).toBe(deliveries[0]!.seq);
    expect(await storage.getDelivery(deliveries[0]!.seq)).toEqual(deliveries[0]);
  });

  it('tells its listeners after a commit that made deliveries due, and not for an event without any', async () => {
    const storage = await makeStorage();
    let calls = 0;
    const stop = storage.onDeliveriesDue(() => (calls += 1));
    await storage.ingest(newEvent({ plan: deliverTo(T0, 'a') }));
    const deadline = Date.now() + 5000;
    while (calls === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toBeGreaterThan(0);
    // PostgreSQL also hears its own NOTIFY a moment later (waking twice is harmless): let it arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterDue = calls;
    await storage.ingest(newEvent());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(afterDue);
    stop();
  });
});

describe('escalations', () => {
  const escalation = (conversation: string, dueAt: number) => ({
    create: [{ handler: 'esc', dueAt, conversationUUID: conversation }],
  });

  it('cancels a waiting escalation when a later event of the conversation plans its cancellation', async () => {
    const storage = await makeStorage();
    const asked = await storage.ingest(newEvent({ type: 'conversation-started', conversation: 'c1', plan: escalation('c1', T0 + 3_600_000) }));
    const elsewhere = await storage.ingest(newEvent({ type: 'conversation-started', conversation: 'c2', plan: escalation('c2', T0 + 3_600_000) }));
    const answered = await storage.ingest(newEvent({ conversation: 'c1', plan: { cancel: [{ handler: 'esc', conversationUUID: 'c1' }] } }));
    expect(await storage.deliveriesForEvent(asked.seq)).toMatchObject([{ status: 'cancelled', cancelledBy: answered.id, dueAt: null }]);
    expect(await storage.deliveriesForEvent(elsewhere.seq)).toMatchObject([{ status: 'pending', cancelledBy: null }]);
  });

  it('cancels an escalation at claim time when a cancelling event of the conversation committed after planning', async () => {
    const storage = await makeStorage();
    const asked = await storage.ingest(newEvent({ type: 'conversation-started', conversation: 'c1', plan: escalation('c1', T0) }));
    // Committed with no cancellation planned (e.g. on a replica whose config did not know the handler yet).
    const answered = await storage.ingest(newEvent({ type: 'transcript', conversation: 'c1' }));
    const unrelated = await storage.ingest(newEvent({ type: 'conversation-started', conversation: 'c2', plan: escalation('c2', T0) }));
    await storage.ingest(newEvent({ type: 'unanswered', conversation: 'c2' }));
    const claimed = await storage.claimDue(claim('esc', { unlessFollowedBy: ['transcript'] }), T0 + 1);
    expect(claimed.map((d) => d.eventSeq)).toEqual([unrelated.seq]);
    expect(await storage.deliveriesForEvent(asked.seq)).toMatchObject([{ status: 'cancelled', cancelledBy: answered.id, attempts: 0 }]);
  });
});

describe('claims and leases', () => {
  it('claims the most overdue first, so a backlog of first attempts does not starve a due retry', async () => {
    const storage = await makeStorage();
    const retried = await storage.ingest(newEvent({ plan: deliverTo(1_000, 'a') }));
    const [first] = await storage.claimDue(claim('a'), 1_000);
    await storage.recordAttempt({ deliverySeq: first!.seq, attemptId: first!.attemptId, claimToken: first!.claimToken, durationMs: 5, outcome: 'failed', statusCode: 503, next: { status: 'failed', dueAt: 5_000 } }, 1_000);
    for (let n = 2; n <= 11; n++) await storage.ingest(newEvent({ plan: deliverTo(6_000 + n, 'a') }));
    const claimed = await storage.claimDue(claim('a', { concurrency: 4 }), 10_000);
    expect(claimed).toHaveLength(4);
    expect(claimed[0]!.eventSeq).toBe(retried.seq);
    expect(claimed[0]).toMatchObject({ status: 'running', attempt: 2, attempts: 2 });
  });

  it('never hands the same delivery to two claims, and never runs more than the concurrency at once', async () => {
    const storage = await makeStorage();
    for (let n = 0; n < 6; n++) await storage.ingest(newEvent({ plan: deliverTo(T0, 'a') }));
    const [one, two] = await Promise.all([storage.claimDue(claim('a', { concurrency: 3 }), T0), storage.claimDue(claim('a', { concurrency: 3 }), T0)]);
    const seqs = [...one!, ...two!].map((d) => d.seq);
    expect(seqs).toHaveLength(3);
    expect(new Set(seqs).size).toBe(3);
    expect(new Set([...one!, ...two!].map((d) => d.claimToken)).size).toBe(3);
    // The cap counts running claims whose lease holds, wherever they were made.
    expect(await storage.claimDue(claim('a', { concurrency: 3 }), T0 + 1)).toEqual([]);
    const [running] = one!.length > 0 ? one! : two!;
    await storage.recordAttempt({ deliverySeq: running!.seq, attemptId: running!.attemptId, claimToken: running!.claimToken, durationMs: 1, outcome: 'succeeded', next: { status: 'succeeded' } }, T0 + 2);
    expect(await storage.claimDue(claim('a', { concurrency: 3 }), T0 + 3)).toHaveLength(1);
    // Another handler has its own cap.
    expect(await storage.claimDue(claim('b', { concurrency: 3 }), T0 + 3)).toEqual([]);
  });

  // Leases follow the `now` a caller passes, on both backends; these tests pass the real clock and wait for it.
  const reapOnce = async (storage: Storage) => {
    const deadline = Date.now() + 5_000;
    let reaped = 0;
    while (reaped === 0 && Date.now() < deadline) reaped = await storage.reapExpiredLeases(Date.now());
    return reaped;
  };

  it('records an attempt only with the current claim token: a worker whose lease expired records nothing', async () => {
    const storage = await makeStorage();
    const { seq } = await storage.ingest(newEvent({ plan: deliverTo(T0, 'a') }));
    const [stale] = await storage.claimDue(claim('a', { leaseMs: 1 }), Date.now());
    expect(await reapOnce(storage)).toBe(1);
    const [fresh] = await storage.claimDue(claim('a', { leaseMs: 60_000 }), Date.now());
    expect(fresh!.seq).toBe(stale!.seq);
    expect(fresh!.claimToken).not.toBe(stale!.claimToken);
    const late = { deliverySeq: stale!.seq, attemptId: stale!.attemptId, claimToken: stale!.claimToken, durationMs: 9, outcome: 'succeeded' as const, externalId: 'late', next: { status: 'succeeded' as const } };
    expect(await storage.recordAttempt(late, T0 + 2_500)).toBe(false);
    const [delivery] = await storage.deliveriesForEvent(seq);
    expect(delivery).toMatchObject({ status: 'running', attempts: 2, externalId: null });
    expect((await storage.attempts(stale!.seq)).map((a) => a.outcome)).toEqual(['interrupted', null]);
    expect(await storage.recordAttempt({ ...late, attemptId: fresh!.attemptId, claimToken: fresh!.claimToken, externalId: 'T-1' }, T0 + 2_600)).toBe(true);
    expect(await storage.getDelivery(fresh!.seq)).toMatchObject({ status: 'succeeded', externalId: 'T-1', dueAt: null });
    expect((await storage.attempts(fresh!.seq)).map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
  });

  it('reaps expired leases only: back to pending, due now, the open attempt marked interrupted', async () => {
    const storage = await makeStorage();
    await storage.ingest(newEvent({ plan: deliverTo(T0, 'short', 'long') }));
    const [long] = await storage.claimDue(claim('long', { leaseMs: 60_000 }), Date.now());
    expect(await storage.reapExpiredLeases(Date.now())).toBe(0);
    const [short] = await storage.claimDue(claim('short', { leaseMs: 1 }), Date.now());
    const deadline = Date.now() + 5_000;
    let reaped = 0;
    let reapedAt = 0;
    while (reaped === 0 && Date.now() < deadline) reaped = await storage.reapExpiredLeases((reapedAt = Date.now()));
    expect(reaped).toBe(1);
    expect(await storage.getDelivery(short!.seq)).toMatchObject({ status: 'pending', dueAt: reapedAt, attempts: 1 });
    expect(await storage.attempts(short!.seq)).toMatchObject([{ attempt: 1, outcome: 'interrupted' }]);
    expect(await storage.getDelivery(long!.seq)).toMatchObject({ status: 'running' });
    expect(await storage.attempts(long!.seq)).toMatchObject([{ attempt: 1, outcome: null }]);
    expect(await storage.reapExpiredLeases(Date.now())).toBe(0);
  });

  it('moves a delivery on as the record says and keeps the handler state and the error, cut to size', async () => {
    const storage = await makeStorage();
    await storage.ingest(newEvent({ plan: deliverTo(T0, 'a') }));
    const [claimed] = await storage.claimDue(claim('a'), T0);
    const ok = await storage.recordAttempt(
      { deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 12.4, outcome: 'failed', statusCode: 503, error: 'x'.repeat(5000), response: 'busy', state: { texted: [1] }, next: { status: 'failed', dueAt: T0 + 5_000 } },
      T0 + 100,
    );
    expect(ok).toBe(true);
    const delivery = await storage.getDelivery(claimed!.seq);
    expect(delivery).toMatchObject({ status: 'failed', dueAt: T0 + 5_000, lastStatusCode: 503, state: { texted: [1] }, updatedAt: T0 + 100 });
    expect(delivery!.lastError!.length).toBeLessThanOrEqual(1000);
    expect(await storage.attempts(claimed!.seq)).toMatchObject([{ attempt: 1, startedAt: T0, durationMs: 12, outcome: 'failed', statusCode: 503, response: 'busy' }]);
    expect(await storage.nextDueAt(['a'])).toBe(T0 + 5_000);
    expect(await storage.nextDueAt(['b'])).toBeUndefined();
  });
});

describe('redelivery', () => {
  async function dead(storage: Storage, handler: string, receivedAt: number) {
    const { seq } = await storage.ingest(newEvent({ receivedAt, plan: deliverTo(receivedAt, handler) }));
    const [claimed] = await storage.claimDue(claim(handler), receivedAt);
    await storage.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 1, outcome: 'failed', statusCode: 400, next: { status: 'dead' } }, receivedAt);
    return seq;
  }

  it('redelivers one event: creates the missing handlers, puts the named ones back to pending as manual', async () => {
    const storage = await makeStorage();
    const seq = await dead(storage, 'a', T0);
    let woken = 0;
    storage.onDeliveriesDue(() => (woken += 1));
    const rows = await storage.redeliverEvent(seq, { create: ['b'] }, T0 + 10);
    expect(rows.map((d) => [d.handler, d.status, d.dueAt, d.manual])).toEqual([
      ['a', 'pending', T0 + 10, true],
      ['b', 'pending', T0 + 10, true],
    ]);
    expect(rows[0]!.attempts).toBe(1);
    const only = await storage.redeliverEvent(seq, { create: [], handlers: ['b'] }, T0 + 20);
    expect(only.map((d) => d.handler)).toEqual(['b']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBeGreaterThan(0);
  });

  it('leaves a running delivery alone when redelivering its event', async () => {
    const storage = await makeStorage();
    const { seq } = await storage.ingest(newEvent({ plan: deliverTo(T0, 'a') }));
    await storage.claimDue(claim('a'), T0);
    expect(await storage.redeliverEvent(seq, { create: [] }, T0 + 1)).toMatchObject([{ status: 'running', manual: false }]);
  });

  it('redelivers in bulk by status and handler, and by when the events were received', async () => {
    const storage = await makeStorage();
    const early = await dead(storage, 'a', T0);
    const middle = await dead(storage, 'a', T0 + DAY);
    const late = await dead(storage, 'b', T0 + 2 * DAY);
    expect(await storage.redeliverAll({ status: 'dead', handler: 'c' }, T0 + 3 * DAY)).toBe(0);
    expect(await storage.redeliverAll({ status: 'dead', since: T0 + DAY, until: T0 + 2 * DAY }, T0 + 3 * DAY)).toBe(1);
    expect((await storage.deliveriesForEvent(middle))[0]).toMatchObject({ status: 'pending', manual: true, dueAt: T0 + 3 * DAY });
    expect((await storage.deliveriesForEvent(early))[0]!.status).toBe('dead');
    expect(await storage.redeliverAll({ status: 'dead', until: T0 + DAY }, T0 + 3 * DAY)).toBe(1);
    expect(await storage.redeliverAll({ status: 'dead', since: T0 + DAY, handler: 'b' }, T0 + 3 * DAY)).toBe(1);
    expect((await storage.deliveriesForEvent(late))[0]!.status).toBe('pending');
    expect(await storage.redeliverAll({ status: 'dead' }, T0 + 3 * DAY)).toBe(0);
  });
});

describe('deliveries of a page of events', () => {
  it('reads the deliveries of several events in one call, by event then creation order, and none for none', async () => {
    const storage = await makeStorage();
    const one = await storage.ingest(newEvent({ plan: deliverTo(T0, 'b', 'a') }));
    const none = await storage.ingest(newEvent({}));
    const other = await storage.ingest(newEvent({ plan: deliverTo(T0, 'a') }));
    const two = await storage.ingest(newEvent({ plan: deliverTo(T0, 'c') }));
    await storage.redeliverEvent(one.seq, { create: ['c'] }, T0 + 1);
    const read = await storage.deliveriesForEvents([two.seq, none.seq, one.seq]);
    expect(read.map((delivery) => [delivery.eventSeq, delivery.handler])).toEqual([
      [one.seq, 'b'],
      [one.seq, 'a'],
      [one.seq, 'c'],
      [two.seq, 'c'],
    ]);
    // The same objects deliveriesForEvent answers, and nothing of the event that was not asked for.
    expect(read.slice(0, 3)).toEqual(await storage.deliveriesForEvent(one.seq));
    expect(read.some((delivery) => delivery.eventSeq === other.seq)).toBe(false);
    expect(await storage.deliveriesForEvents([])).toEqual([]);
  });
});

describe('listing events', () => {
  it('filters by type, conversation, visitor, rating, tag and time, newest first, in pages that see each event once', async () => {
    const storage = await makeStorage();
    const a = await storage.ingest(newEvent({ type: 'transcript', receivedAt: T0, conversation: 'c1', visitorUUID: 'v1', email: 'ann@example.com', rating: 'up', tags: ['vip', 'feature-request'] }));
    const b = await storage.ingest(newEvent({ type: 'feedback', receivedAt: T0 + DAY, conversation: 'c1', visitorUUID: 'v1', rating: 'down' }));
    const c = await storage.ingest(newEvent({ type: 'offline-message', receivedAt: T0 + 2 * DAY, email: 'bob@example.com' }));
    const ids = async (filter: Parameters<Storage['listEvents']>[0]) => (await storage.listEvents(filter, { limit: 10 })).rows.map((row) => row.id);
    expect(await ids({})).toEqual([c.id, b.id, a.id]);
    expect(await ids({ types: ['transcript', 'offline-message'] })).toEqual([c.id, a.id]);
    expect(await ids({ conversation: 'c1' })).toEqual([b.id, a.id]);
    expect(await ids({ visitor: 'v1' })).toEqual([b.id, a.id]);
    expect(await ids({ visitor: 'ANN@example.com' })).toEqual([a.id]);
    expect(await ids({ rating: 'down' })).toEqual([b.id]);
    expect(await ids({ tag: 'feature-request' })).toEqual([a.id]);
    expect(await ids({ tag: 'feature' })).toEqual([]);
    expect(await ids({ since: T0 + DAY })).toEqual([c.id, b.id]);
    expect(await ids({ until: T0 + DAY })).toEqual([a.id]);
    expect(await ids({ since: T0 + DAY, until: T0 + 2 * DAY, conversation: 'c1' })).toEqual([b.id]);

    const first = await storage.listEvents({}, { limit: 2 });
    expect(first.rows.map((row) => row.id)).toEqual([c.id, b.id]);
    await storage.ingest(newEvent({ receivedAt: T0 + 3 * DAY }));
    const second = await storage.listEvents({}, { before: first.next!, limit: 2 });
    expect(second).toMatchObject({ rows: [{ id: a.id }], next: null });
  });

  it('searches words, phrases and prefixes; accents, case and punctuation do not matter, query syntax is only words', async () => {
    const storage = await makeStorage();
    const creme = await storage.ingest(newEvent({ text: 'Crème brûlée, s’il vous plaît!\nOrder #A-1234 (e-mail: Zoë@Example.com)' }));
    const other = await storage.ingest(newEvent({ text: 'creme fraiche NEAR the OR gate AND more' }));
    await storage.ingest(newEvent({ text: 'nothing to see', tags: ['creme'] }));
    const found = async (query: string) => (await storage.listEvents({ search: parseSearchQuery(query) }, { limit: 10 })).rows.map((row) => row.id);
    expect(await found('creme brulee')).toEqual([creme.id]);
    expect(await found('CRÈME')).toEqual([other.id, creme.id]);
    expect(await found('brûl*')).toEqual([creme.id]);
    expect(await found('"creme brulee"')).toEqual([creme.id]);
    expect(await found('"brulee creme"')).toEqual([]);
    expect(await found('"s il vous"')).toEqual([creme.id]);
    expect(await found('a-1234')).toEqual([creme.id]);
    expect(await found('zoe@example.com')).toEqual([creme.id]);
    expect(await found('e-mail:')).toEqual([creme.id]);
    expect(await found('NEAR OR AND')).toEqual([other.id]);
    expect(await found('fraiche "the or"')).toEqual([other.id]);
    expect(await found('(creme) brûlée)')).toEqual([creme.id]);
    // A column filter is two words here, and no event has the word "text".
    expect(await found('text:brulee')).toEqual([]);
    expect(await found('crem*')).toEqual([other.id, creme.id]);
    // Tags are searched with the tag filter, not the text search.
    expect(await found('nothing creme')).toEqual([]);
    expect(await found('creme brulee zzz')).toEqual([]);
    expect((await storage.listEvents({ search: parseSearchQuery('creme'), tag: 'creme' }, { limit: 10 })).rows).toEqual([]);
  });

  it('filters by the status of a delivery, for any handler or one, with search, tags and a conversation, across pages', async () => {
    const storage = await makeStorage();
    /** Claims every due delivery of `handler` at `now` and moves it to `status`. */
    const settle = async (handler: string, now: number, status: 'succeeded' | 'dead') => {
      for (const claimed of await storage.claimDue(claim(handler), now)) {
        await storage.recordAttempt({ deliverySeq: claimed.seq, attemptId: claimed.attemptId, claimToken: claimed.claimToken, durationMs: 1, outcome: status === 'dead' ? 'failed' : 'succeeded', next: { status } }, now);
      }
    };
    const deadAndDone = await storage.ingest(newEvent({ receivedAt: T0, text: 'refund please', conversation: 'c1', tags: ['vip'], plan: deliverTo(T0, 'a', 'b') }));
    await settle('a', T0, 'dead');
    await settle('b', T0, 'succeeded');
    const waiting = await storage.ingest(newEvent({ receivedAt: T0 + 1, text: 'refund later', plan: deliverTo(T0 + DAY, 'a') }));
    const deadB = await storage.ingest(newEvent({ receivedAt: T0 + 2, text: 'refund now', tags: ['vip'], plan: deliverTo(T0, 'b') }));
    await settle('b', T0 + 2, 'dead');
    const none = await storage.ingest(newEvent({ receivedAt: T0 + 3, text: 'refund' }));
    const deadA = await storage.ingest(newEvent({ receivedAt: T0 + 4, text: 'invoice', plan: deliverTo(T0, 'a') }));
    await settle('a', T0 + 4, 'dead');

    const ids = async (filter: Parameters<Storage['listEvents']>[0]) => (await storage.listEvents(filter, { limit: 10 })).rows.map((row) => row.id);
    expect(await ids({ delivery: { status: 'dead' } })).toEqual([deadA.id, deadB.id, deadAndDone.id]);
    expect(await ids({ delivery: { status: 'dead', handler: 'a' } })).toEqual([deadA.id, deadAndDone.id]);
    expect(await ids({ delivery: { status: 'succeeded', handler: 'b' } })).toEqual([deadAndDone.id]);
    expect(await ids({ delivery: { status: 'succeeded', handler: 'a' } })).toEqual([]);
    expect(await ids({ delivery: { status: 'pending' } })).toEqual([waiting.id]);
    expect(await ids({ delivery: { status: 'dead', handler: 'nobody' } })).toEqual([]);
    expect(await ids({ delivery: { status: 'dead' }, search: parseSearchQuery('refund') })).toEqual([deadB.id, deadAndDone.id]);
    expect(await ids({ delivery: { status: 'dead', handler: 'b' }, search: parseSearchQuery('refund') })).toEqual([deadB.id]);
    expect(await ids({ delivery: { status: 'dead', handler: 'a' }, tag: 'vip' })).toEqual([deadAndDone.id]);
    expect(await ids({ delivery: { status: 'dead' }, conversation: 'c1' })).toEqual([deadAndDone.id]);
    expect(await ids({ search: parseSearchQuery('refund') })).toContain(none.id);

    // Pages of one matching event each: the cursor walks the matches only, each once, with and without search.
    for (const filter of [{ delivery: { status: 'dead' as const } }, { delivery: { status: 'dead' as const }, search: parseSearchQuery('refund') }]) {
      const seen: string[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await storage.listEvents(filter, { before, limit: 1 });
        seen.push(...page.rows.map((row) => row.id));
        if (page.next === null) break;
        before = page.next;
      }
      expect(seen).toEqual(await ids(filter));
    }
  });

  it('reads a conversation oldest first', async () => {
    const storage = await makeStorage();
    const one = await storage.ingest(newEvent({ type: 'conversation-started', conversation: 'c1' }));
    await storage.ingest(newEvent({ conversation: 'c2' }));
    const two = await storage.ingest(newEvent({ conversation: 'c1' }));
    expect((await storage.conversation('c1')).map((row) => row.id)).toEqual([one.id, two.id]);
    expect(await storage.conversation('none')).toEqual([]);
  });
});

describe('erasure and retention', () => {
  it('deletes one event with its search row and deliveries', async () => {
    const storage = await makeStorage();
    const { seq } = await storage.ingest(newEvent({ text: 'platypus', plan: deliverTo(T0, 'a') }));
    const [claimed] = await storage.claimDue(claim('a'), T0);
    expect(await storage.deleteEvent(seq)).toBe(true);
    expect(await storage.deleteEvent(seq)).toBe(false);
    expect(await storage.getEvent(seq)).toBeUndefined();
    expect(await storage.getDelivery(claimed!.seq)).toBeUndefined();
    expect(await storage.attempts(claimed!.seq)).toEqual([]);
    expect((await storage.listEvents({ search: parseSearchQuery('platypus') }, { limit: 10 })).rows).toEqual([]);
  });

  it('erases a visitor by email or UUID with the identifiers seen beside it, and the rejected bodies naming them', async () => {
    const storage = await makeStorage();
    await storage.ingest(newEvent({ visitorUUID: 'v1', email: 'ann@example.com' }));
    await storage.ingest(newEvent({ visitorUUID: 'v1' }));
    await storage.ingest(newEvent({ visitorUUID: 'v2', email: 'ann@example.com' }));
    const kept = await storage.ingest(newEvent({ visitorUUID: 'v3', email: 'bob@example.com' }));
    await storage.insertRejection({ type: 'transcript', receivedAt: T0, raw: Buffer.from('{"visitorEmail":"ANN@example.com"}'), errors: [] });
    await storage.insertRejection({ type: 'transcript', receivedAt: T0, raw: Buffer.from('{"visitorEmail":"bob@example.com"}'), errors: [] });
    expect(await storage.deleteVisitor('Ann@Example.com')).toEqual({ events: 3, rejections: 1 });
    expect((await storage.listEvents({}, { limit: 10 })).rows.map((row) => row.id)).toEqual([kept.id]);
    expect(await storage.listRejections({ limit: 10 })).toHaveLength(1);
    expect(await storage.deleteVisitor('nobody')).toEqual({ events: 0, rejections: 0 });
  });

  it('deletes the oldest events received before a cutoff, a batch at a time', async () => {
    const storage = await makeStorage();
    for (let n = 0; n < 5; n++) await storage.ingest(newEvent({ receivedAt: T0 + n, plan: deliverTo(T0, 'a') }));
    const recent = await storage.ingest(newEvent({ receivedAt: T0 + 10 * DAY }));
    expect(await storage.deleteOlderThan(T0 + DAY, 3)).toBe(3);
    expect(await storage.deleteOlderThan(T0 + DAY, 3)).toBe(2);
    expect(await storage.deleteOlderThan(T0 + DAY, 3)).toBe(0);
    expect((await storage.listEvents({}, { limit: 10 })).rows.map((row) => row.id)).toEqual([recent.id]);
    expect((await storage.backlog()).byHandlerAndStatus).toEqual([]);
  });
});

describe('rejections', () => {
  it('keeps the newest bodies up to the cap, with their errors, newest first', async () => {
    const storage = await makeStorage();
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) {
      ids.push(await storage.insertRejection({ type: 'feedback', receivedAt: T0 + n, raw: Buffer.from(`{"n":${n}}`), errors: [{ path: 'n', message: `bad ${n}` }] }));
    }
    const rows = await storage.listRejections({ limit: 10 });
    expect(rows.map((row) => row.raw.toString())).toEqual(['{"n":4}', '{"n":3}', '{"n":2}']);
    expect(rows[0]).toMatchObject({ id: ids[4], type: 'feedback', receivedAt: T0 + 4, errors: [{ path: 'n', message: 'bad 4' }] });
    expect(await storage.getRejection(ids[0]!)).toBeUndefined();
    expect((await storage.listRejections({ before: ids[4], limit: 1 })).map((row) => row.id)).toEqual([ids[3]]);
    await storage.removeRejection(ids[4]!);
    expect(await storage.getRejection(ids[4]!)).toBeUndefined();
  });
});

describe('backlog and stats', () => {
  it('counts waiting, running and dead deliveries by handler, and how overdue the oldest waiting one is', async () => {
    const storage = await makeStorage();
    await storage.ingest(newEvent({ plan: deliverTo(T0, 'a', 'b') }));
    await storage.ingest(newEvent({ plan: deliverTo(T0 + 100, 'b') }));
    await storage.ingest(newEvent({ plan: deliverTo(T0 + 200, 'c') }));
    const [running] = await storage.claimDue(claim('a'), T0);
    expect(running).toBeDefined();
    const [gone] = await storage.claimDue(claim('c'), T0 + 300);
    await storage.recordAttempt({ deliverySeq: gone!.seq, attemptId: gone!.attemptId, claimToken: gone!.claimToken, durationMs: 1, outcome: 'failed', statusCode: 404, next: { status: 'dead' } }, T0 + 300);
    const backlog = await storage.backlog();
    expect(backlog.oldestDueAt).toBe(T0);
    expect(backlog.byHandlerAndStatus).toEqual(
      expect.arrayContaining([
        { handler: 'a', status: 'running', count: 1 },
        { handler: 'b', status: 'pending', count: 2 },
        { handler: 'c', status: 'dead', count: 1 },
      ]),
    );
    expect(backlog.byHandlerAndStatus).toHaveLength(3);
  });

  it('counts events by type and UTC day, ratings, first-response times and deliveries over a range', async () => {
    const storage = await makeStorage();
    await storage.ingest(newEvent({ type: 'transcript', receivedAt: T0, rating: 'up', firstResponseSeconds: 30, plan: deliverTo(T0, 'a') }));
    await storage.ingest(newEvent({ type: 'transcript', receivedAt: T0 + 1000, rating: 'down', firstResponseSeconds: 90 }));
    await storage.ingest(newEvent({ type: 'feedback', receivedAt: T0 + DAY, rating: 'up' }));
    await storage.ingest(newEvent({ type: 'feedback', receivedAt: T0 + 5 * DAY, rating: 'down', plan: deliverTo(T0, 'a') }));
    const range = { since: T0 - 1000, until: T0 + 2 * DAY };
    expect(await storage.countsByTypeAndDay(range)).toEqual([
      { type: 'transcript', day: '2026-06-01', n: 2 },
      { type: 'feedback', day: '2026-06-02', n: 1 },
    ]);
    expect(await storage.ratings(range)).toEqual({ up: 2, down: 1 });
    expect((await storage.firstResponseSeconds(range)).sort((x, y) => x - y)).toEqual([30, 90]);
    expect(await storage.deliveryCounts(range)).toEqual({ pending: 1, running: 0, failed: 0, succeeded: 0, dead: 0, cancelled: 0 });
  });
});

describe('operations', () => {
  it('takes a durable write, reports its size, runs singleton jobs, and refuses calls once closed', async () => {
    const storage = await makeStorage();
    await storage.probeWrite();
    expect(await storage.sizeBytes()).toBeGreaterThan(0);
    expect(await storage.singleton('retention', async () => 42)).toBe(42);
    await storage.close();
    await expect(storage.probeWrite()).rejects.toThrow(/closed/);
  });
});

storageConformance(TEST_BACKEND, makeStorage);
