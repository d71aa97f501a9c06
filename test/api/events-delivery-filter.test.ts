import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, createTestApp, type TestApp } from '../helpers/app.js';
import { deliverTo, newEvent } from '../helpers/events.js';

let t: TestApp;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const ids: Record<'deadZendesk' | 'deadSlack' | 'delivered' | 'none', string> = { deadZendesk: '', deadSlack: '', delivered: '', none: '' };

/** Stores an event with a delivery to `handler` and moves it to `status` through a claim, as the worker does. */
async function eventWithDelivery(handler: string, status: 'dead' | 'succeeded', text: string, receivedAt: number): Promise<string> {
  const { storage } = t.ctx;
  const { id } = await storage.ingest(newEvent({ receivedAt, text, plan: deliverTo(receivedAt, handler) }));
  const [claimed] = await storage.claimDue({ handler, concurrency: 1, leaseMs: 10_000, unlessFollowedBy: [] }, receivedAt);
  await storage.recordAttempt(
    { deliverySeq: claimed!.seq, attemptId: claimed!.attemptId, claimToken: claimed!.claimToken, durationMs: 1, outcome: status === 'dead' ? 'failed' : 'succeeded', next: { status } },
    receivedAt,
  );
  return id;
}

beforeAll(async () => {
  t = await createTestApp();
  ids.deadZendesk = await eventWithDelivery('zendesk', 'dead', 'refund for order 7', T0);
  ids.deadSlack = await eventWithDelivery('slack', 'dead', 'refund again', T0 + 1);
  ids.delivered = await eventWithDelivery('zendesk', 'succeeded', 'refund done', T0 + 2);
  ids.none = (await t.ctx.storage.ingest(newEvent({ receivedAt: T0 + 3, text: 'refund nothing' }))).id;
});
afterAll(async () => {
  await t?.close();
});

async function listed(query: string): Promise<string[]> {
  const response = await t.app.inject({ url: `/api/events?${query}`, headers: apiHeaders });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ data: Array<{ id: string }> }>().data.map((event) => event.id);
}

describe('GET /api/events?deliveryStatus=&handler=', () => {
  it('lists the events with a delivery in that status, to any handler or to the one named', async () => {
    expect(await listed('deliveryStatus=dead')).toEqual([ids.deadSlack, ids.deadZendesk]);
    expect(await listed('deliveryStatus=dead&handler=zendesk')).toEqual([ids.deadZendesk]);
    expect(await listed('deliveryStatus=succeeded')).toEqual([ids.delivered]);
    expect(await listed('deliveryStatus=dead&handler=nobody')).toEqual([]);
  });

  it('combines with search and walks pages with the cursor', async () => {
    expect(await listed('deliveryStatus=dead&q=order')).toEqual([ids.deadZendesk]);
    const first = (await t.app.inject({ url: '/api/events?deliveryStatus=dead&limit=1', headers: apiHeaders })).json<{ data: Array<{ id: string }>; nextCursor: string }>();
    expect(first.data.map((event) => event.id)).toEqual([ids.deadSlack]);
    expect(await listed(`deliveryStatus=dead&limit=1&cursor=${first.nextCursor}`)).toEqual([ids.deadZendesk]);
  });

  it('exports only the matching events', async () => {
    const response = await t.app.inject({ url: '/api/events/export?deliveryStatus=dead&handler=slack', headers: apiHeaders });
    expect(response.statusCode).toBe(200);
    expect(response.body.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id)).toEqual([ids.deadSlack]);
  });

  for (const [query, parameter] of [
    ['deliveryStatus=broken', 'deliveryStatus'],
    ['deliveryStatus=', 'deliveryStatus'],
    ['handler=zendesk', 'handler'],
    ['deliveryStatus=dead&handler=', 'handler'],
  ] as const) {
    it(`answers 400 naming ${parameter} for ${query}`, async () => {
      for (const route of ['/api/events', '/api/events/export']) {
        const response = await t.app.inject({ url: `${route}?${query}`, headers: apiHeaders });
        expect(response.statusCode, route).toBe(400);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json<{ errors: Array<{ path: string }> }>().errors.map((error) => error.path)).toContain(parameter);
      }
    });
  }

  it('documents both parameters on the list and the export in the OpenAPI document', async () => {
    const document = (await t.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, { get: { parameters: Array<{ name: string; schema: { enum?: string[] } }> } }> }>();
    for (const path of ['/api/events', '/api/events/export']) {
      const parameters = document.paths[path]!.get.parameters;
      expect(parameters.find((parameter) => parameter.name === 'deliveryStatus')?.schema.enum).toContain('dead');
      expect(parameters.map((parameter) => parameter.name)).toContain('handler');
    }
  });
});
