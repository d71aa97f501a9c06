import { afterEach, describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { sqliteOf } from '../helpers/storage.js';

let t: DispatchApp | undefined;
let sink: Sink | undefined;
afterEach(async () => {
  await t?.close();
  await sink?.close();
  t = undefined;
  sink = undefined;
});

const count = (table: string) => (sqliteOf(t!.ctx.storage).db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('erasure with deliveries on record', () => {
  it('removes an erased event’s deliveries and their attempts with it, and a visitor’s too', async () => {
    sink = await startSink(() => ({ status: 200 }));
    t = await createDispatchApp({
      handlers: [
        { name: 'forward', type: 'http', events: '*', options: { url: sink.url } },
        { name: 'later', type: 'log', events: '*', delay: '1h' },
      ],
    });
    const first = await t.post('transcript', payload('transcript', { visitorEmail: 'erase-me@example.com' }));
    const second = await t.post('offline-message', payload('offline-message', { email: 'erase-me@example.com' }));
    // A visitor of its own: the documented samples share one visitor UUID, which erasure would follow.
    const kept = await t.post('feedback', payload('feedback', { visitor: { UUID: 'someone-else', email: 'other@example.com' } }));
    for (const id of [first, second, kept]) await t.settled(id, ['succeeded', 'pending']);
    expect(count('deliveries')).toBe(6);
    expect(count('delivery_attempts')).toBeGreaterThanOrEqual(1);

    const one = await t.api('DELETE', `/api/events/${first}`);
    expect(one.status).toBe(200);
    expect(count('deliveries')).toBe(4);

    const visitor = await t.api('DELETE', '/api/visitors/erase-me@example.com');
    expect(visitor).toMatchObject({ status: 200, json: { removed: { events: 1 } } });
    expect(count('deliveries')).toBe(2);
    expect(await t.deliveries(kept)).toHaveLength(2);
    const orphans = sqliteOf(t.ctx.storage).db.prepare('SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id NOT IN (SELECT id FROM deliveries)').get() as { n: number };
    expect(orphans.n).toBe(0);
  });
});
