import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, apiHeaders, countEvents, createTestApp, manifest, postWebhook, readFixture, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});


describe('every fixture', () => {
  for (const entry of manifest()) {
    it(`answers ${entry.expect} for ${entry.file} on /${entry.type}`, async () => {
      const events = await countEvents(t.ctx.storage);
      const body = readFixture(entry.file);
      const response = await postWebhook(t.app, entry.type, body);
      expect(response.statusCode).toBe(entry.expect);
      if (entry.expect === 200) {
        const answer = response.json<{ id: string; type: string; duplicate: boolean }>();
        expect(answer.type).toBe(entry.type);
        const raw = await t.app.inject({ url: `/api/events/${answer.id}/raw`, headers: apiHeaders });
        expect(raw.headers['content-type']).toMatch(/^application\/json/);
        expect(raw.rawPayload.equals(body)).toBe(true);
      } else {
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        const problem = response.json<{ status: number; errors?: Array<{ path: string }> }>();
        expect(problem.status).toBe(entry.expect);
        expect(await countEvents(t.ctx.storage)).toBe(events);
        if (entry.paths) expect(problem.errors?.map((e) => e.path).sort()).toEqual([...entry.paths].sort());
      }
    });
  }
});

describe('POST /webhooks/chatlio/:type', () => {
  const transcript = readFixture('valid/transcript/documented.json');

  it('answers the same bytes on the same route with the first id and duplicate: true, storing once', async () => {
    const body = Buffer.from(JSON.stringify({ conversationUUID: 'dup-test-1', messages: [] }));
    const first = (await postWebhook(t.app, 'transcript', body)).json<{ id: string; duplicate: boolean }>();
    const second = (await postWebhook(t.app, 'transcript', body)).json<{ id: string; duplicate: boolean }>();
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ id: first.id, duplicate: true });
    expect(await t.ctx.storage.conversation('dup-test-1')).toHaveLength(1);
  });

  it('treats the same bytes on another route as another event', async () => {
    const body = Buffer.from(JSON.stringify({ conversationUUID: 'dup-test-2' }));
    const started = (await postWebhook(t.app, 'conversation-started', body)).json<{ id: string }>();
    const unanswered = (await postWebhook(t.app, 'unanswered', body)).json<{ id: string; duplicate: boolean }>();
    expect(unanswered.duplicate).toBe(false);
    expect(unanswered.id).not.toBe(started.id);
  });

  it('treats a re-sent transcript whose bytes differ as a new event', async () => {
    const base = { conversationUUID: 'resend-1', extraData: [] as string[] };
    const first = (await postWebhook(t.app, 'transcript', JSON.stringify(base))).json<{ id: string }>();
    const again = (await postWebhook(t.app, 'transcript', JSON.stringify({ ...base, extraData: ['urgent'] }))).json<{ id: string; duplicate: boolean }>();
    expect(again.duplicate).toBe(false);
    expect(again.id > first.id).toBe(true);
  });

  it('accepts the token as Authorization: Bearer', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/webhooks/chatlio/feedback',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      payload: JSON.stringify({ conversationUUID: 'bearer-1' }),
    });
    expect(response.statusCode).toBe(200);
  });

  it('answers 401 and stores nothing for a missing, wrong or API token', async () => {
    const before = await countEvents(t.ctx.storage);
    for (const url of ['/webhooks/chatlio/transcript', '/webhooks/chatlio/transcript?token=wrong-token-wrong-token-wrong', `/webhooks/chatlio/transcript?token=${API_TOKEN}`]) {
      const response = await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: transcript });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ status: 401 });
    }
    expect(await countEvents(t.ctx.storage)).toBe(before);
  });

  it('answers 415 for a content type other than JSON', async () => {
    const response = await postWebhook(t.app, 'transcript', transcript, { contentType: 'text/plain' });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ status: 415, detail: expect.stringContaining('application/json') });
  });

  it('accepts application/json with a charset parameter', async () => {
    const body = JSON.stringify({ conversationUUID: 'charset-1' });
    const response = await postWebhook(t.app, 'transcript', body, { contentType: 'application/json; charset=utf-8' });
    expect(response.statusCode).toBe(200);
  });

  it('answers 404 with a problem body for an unknown webhook type', async () => {
    const response = await postWebhook(t.app, 'chat-deleted', transcript);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
  });

  it('keeps a 422 body with its errors in the rejections table', async () => {
    const body = readFixture('invalid/message-ts-number.json');
    await postWebhook(t.app, 'transcript', body);
    const [row] = await t.ctx.storage.listRejections({ limit: 1 });
    expect(row!.type).toBe('transcript');
    expect(row!.raw.equals(body)).toBe(true);
    expect(row!.errors).toEqual([expect.objectContaining({ path: 'messages.0.ts' })]);
  });

  it('never writes the webhook token to the logs', async () => {
    await postWebhook(t.app, 'transcript', transcript);
    expect(t.logs()).toContain('token=[REDACTED]');
    expect(t.logs()).not.toContain(WEBHOOK_TOKEN);
    expect(t.logs()).not.toContain(API_TOKEN);
  });

  it('leaves prototypes alone when the body has __proto__ and constructor keys', async () => {
    const response = await postWebhook(t.app, 'unanswered', readFixture('valid/unanswered/hostile-keys.json'));
    expect(response.statusCode).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const event = await t.app.inject({ url: `/api/events/${response.json<{ id: string }>().id}`, headers: apiHeaders });
    expect(event.statusCode).toBe(200);
  });
});
