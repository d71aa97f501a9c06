import { afterEach, describe, expect, it } from 'vitest';
import { createDispatchApp, payload, type DispatchApp } from '../helpers/dispatch.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/server.js';

let t: DispatchApp | undefined;
let sink: Sink | undefined;
afterEach(async () => {
  await t?.close();
  await sink?.close();
  t = undefined;
  sink = undefined;
});

describe('delivery metrics', () => {
  it('count finished attempts by handler and outcome, and deliveries by handler and status, pending and dead', async () => {
    sink = await startSink((request) => ({ status: request.body.toString().includes('"fail-me"') ? 400 : 200 }));
    t = await createDispatchApp({
      handlers: [
        { name: 'forward', type: 'http', events: ['transcript', 'feedback'], options: { url: sink.url } },
        { name: 'later', type: 'log', events: ['unanswered'], delay: '1h' },
      ],
    });
    await t.settled(await t.post('transcript', payload('transcript')));
    await t.settled(await t.post('feedback', payload('feedback', { chatFeedback: 'fail-me' })));
    await t.post('unanswered', payload('unanswered'));

    const response = await t.app.inject({ url: '/metrics' });
    const metrics = parsePrometheusText(response.body);
    expect(sampleValue(metrics, 'chatlio_relay_delivery_attempts_total', { handler: 'forward', outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(metrics, 'chatlio_relay_delivery_attempts_total', { handler: 'forward', outcome: 'failed' })).toBe(1);
    // Finished deliveries only grow: the gauge counts the backlog (waiting, running, dead), never succeeded rows.
    expect(sampleValue(metrics, 'chatlio_relay_deliveries', { handler: 'forward', status: 'succeeded' })).toBeUndefined();
    expect(sampleValue(metrics, 'chatlio_relay_deliveries', { handler: 'forward', status: 'dead' })).toBe(1);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries', { handler: 'later', status: 'pending' })).toBe(1);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries_pending')).toBe(1);
    expect(sampleValue(metrics, 'chatlio_relay_deliveries_dead')).toBe(1);
    // The delayed delivery is not due for an hour: nothing pending is overdue yet.
    expect(sampleValue(metrics, 'chatlio_relay_oldest_pending_delivery_age_seconds')).toBe(0);
  });
});

describe('GET /api/stats', () => {
  it('counts the deliveries of the events received in the range by status', async () => {
    sink = await startSink(() => ({ status: 200 }));
    t = await createDispatchApp({ handlers: [{ name: 'forward', type: 'http', events: ['transcript'], options: { url: sink.url } }, { name: 'later', type: 'log', events: ['transcript'], delay: '1h' }] });
    const id = await t.post('transcript', payload('transcript'));
    await waitFor(async () => ((await t!.deliveries(id)).find((delivery) => delivery.handler === 'forward')?.status === 'succeeded' ? true : undefined));
    const stats = await t.api('GET', '/api/stats');
    expect(stats.status).toBe(200);
    expect((stats.json as { deliveries: Record<string, number> }).deliveries).toMatchObject({ succeeded: 1, pending: 1, dead: 0 });
    const before = await t.api('GET', '/api/stats?since=2020-01-01&until=2020-06-01');
    expect((before.json as { deliveries: Record<string, number> }).deliveries).toMatchObject({ succeeded: 0, pending: 0 });
  });
});
