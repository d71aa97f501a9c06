import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createHash } from 'node:crypto';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function storeEvent(t: TestApp, n: number): number {
  const raw = Buffer.from(`{"n":${n}}`);
  const identity = { conversationUUID: `conv-${n}`, visitorUUID: null, visitorEmail: null, visitorName: null, rating: null };
  return t.ctx.events.insert({ type: 'unanswered', receivedAt: 1000, raw, bodySha256: createHash('sha256').update(raw).digest(), identity }).seq;
}

describe('the deliveries store', () => {
  it('counts by status and by handler, reports how overdue the oldest waiting delivery is, and redelivers in bulk', async () => {
    app = await createTestApp();
    const { deliveries } = app.ctx;
    const seqs = [1, 2, 3].map((n) => storeEvent(app!, n));
    const ids = seqs.map((seq, index) => deliveries.create({ eventSeq: seq, handler: index === 0 ? 'a' : 'b', dueAt: 10_000 + index, conversationUUID: null }, 10_000));
    const [claimed] = deliveries.claimDue('a', 1, 20_000);
    deliveries.recordAttempt({ deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, durationMs: 5, outcome: 'failed', statusCode: 400, error: 'bad', next: { status: 'dead' } }, 20_000);
    expect(deliveries.countsByStatus()).toMatchObject({ pending: 2, dead: 1, running: 0, succeeded: 0 });
    expect(deliveries.countsByHandlerStatus()).toEqual(
      expect.arrayContaining([{ handler: 'a', status: 'dead', count: 1 }, { handler: 'b', status: 'pending', count: 2 }]),
    );
    expect(deliveries.oldestPendingAgeMs(20_001)).toBe(10_000);
    expect(deliveries.oldestPendingAgeMs(5_000)).toBe(0);
    expect(deliveries.redeliverAll({ status: 'dead', handler: 'b' })).toBe(0);
    expect(deliveries.redeliverAll({ status: 'dead' }, 30_000)).toBe(1);
    expect(deliveries.get(ids[0]!)).toMatchObject({ status: 'pending', dueAt: 30_000, attempts: 1, manual: true });
  });

  it('claims the most overdue first, so a backlog of first attempts does not starve a due retry', async () => {
    app = await createTestApp();
    const { deliveries } = app.ctx;
    const retry = deliveries.create({ eventSeq: storeEvent(app, 1), handler: 'a', dueAt: 1_000, conversationUUID: null }, 1_000);
    const [first] = deliveries.claimDue('a', 1, 1_000);
    deliveries.recordAttempt({ deliverySeq: first!.seq, attemptId: first!.attemptId, durationMs: 5, outcome: 'failed', statusCode: 503, next: { status: 'failed', dueAt: 5_000 } }, 1_000);
    // Ten new deliveries arrive after the retry was scheduled but before it is due.
    for (let n = 2; n <= 11; n++) deliveries.create({ eventSeq: storeEvent(app, n), handler: 'a', dueAt: 6_000 + n, conversationUUID: null }, 6_000 + n);
    const claimed = deliveries.claimDue('a', 4, 10_000);
    expect(claimed.map((delivery) => delivery.seq)[0]).toBe(retry);
    expect(claimed).toHaveLength(4);
  });

  it('puts back what a dead process left running, marking its open attempt interrupted', async () => {
    app = await createTestApp();
    const { deliveries } = app.ctx;
    const seq = deliveries.create({ eventSeq: storeEvent(app, 1), handler: 'a', dueAt: 0, conversationUUID: null });
    deliveries.claimDue('a', 4);
    expect(deliveries.get(seq)!.status).toBe('running');
    expect(deliveries.recoverInterrupted(50_000)).toBe(1);
    expect(deliveries.get(seq)).toMatchObject({ status: 'pending', dueAt: 50_000, attempts: 1 });
    expect(deliveries.attempts(seq)).toMatchObject([{ attempt: 1, outcome: 'interrupted' }]);
  });

  it('drops an event’s deliveries and attempts with the event, so retention can purge events', async () => {
    app = await createTestApp();
    const { deliveries } = app.ctx;
    const eventSeq = storeEvent(app, 1);
    const seq = deliveries.create({ eventSeq, handler: 'a', dueAt: 0, conversationUUID: null });
    deliveries.claimDue('a', 1);
    app.ctx.db.prepare('DELETE FROM events WHERE seq = ?').run(eventSeq);
    expect(deliveries.get(seq)).toBeUndefined();
    expect(deliveries.attempts(seq)).toEqual([]);
  });
});
