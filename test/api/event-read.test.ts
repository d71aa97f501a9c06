import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_TOKEN, apiHeaders, createTestApp, postWebhook, readFixture, type TestApp } from '../helpers/app.js';

let t: TestApp;
let id: string;
beforeAll(async () => {
  t = await createTestApp();
  id = (await postWebhook(t.app, 'transcript', readFixture('valid/transcript/visitor-traits-string.json'))).json<{ id: string }>().id;
});
afterAll(async () => {
  await t.close();
});

describe('GET /api/events/:id', () => {
  it('answers the event with its indexed fields and the parsed payload', async () => {
    const response = await t.app.inject({ url: `/api/events/${id}`, headers: apiHeaders });
    expect(response.statusCode).toBe(200);
    const event = response.json<Record<string, unknown> & { payload: Record<string, unknown> }>();
    expect(event).toMatchObject({ id, type: 'transcript', receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(event).toHaveProperty('visitor.uuid');
    // visitorTraits arrived as a string holding JSON: the payload shows it decoded.
    expect(typeof event.payload.visitorTraits).toBe('object');
  });

  it.each([
    ['no Authorization header', {}],
    ['the webhook token', { authorization: `Bearer ${WEBHOOK_TOKEN}` }],
    ['a wrong token', { authorization: 'Bearer wrong-wrong-wrong-wrong-wrong' }],
  ])('answers 401 with %s', async (_name, headers) => {
    for (const url of [`/api/events/${id}`, `/api/events/${id}/raw`, `/api/events/${id}?token=${WEBHOOK_TOKEN}`]) {
      const response = await t.app.inject({ url, headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
  });

  it.each(['evt_zzzzzzzzzz', 'evt_0000000000', 'not-an-id', 'evt_%27%20OR%201=1'])('answers 404 with a problem body for %s', async (unknown) => {
    for (const url of [`/api/events/${unknown}`, `/api/events/${unknown}/raw`]) {
      const response = await t.app.inject({ url, headers: apiHeaders });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ status: 404, title: 'Not Found' });
    }
  });
});
