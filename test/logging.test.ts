import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, createTestApp, postWebhook, readFixture, type TestApp } from './helpers/app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('logs', () => {
  it('carry the request id and mask the client address when LOG_MASK_PII is set', async () => {
    t = await createTestApp({ LOG_MASK_PII: 'true' });
    const response = await t.app.inject({
      method: 'POST',
      url: '/webhooks/chatlio/feedback?token=x',
      remoteAddress: '203.0.113.77',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc-123' },
      payload: '{}',
    });
    expect(response.headers['x-request-id']).toBe('req-abc-123');
    const lines = t.logs().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const incoming = lines.find((line) => line.msg === 'incoming request' && line.reqId === 'req-abc-123');
    expect(incoming).toMatchObject({ req: { remoteAddress: '203.0.113.0', url: '/webhooks/chatlio/feedback?token=[REDACTED]' } });
    expect(t.logs()).not.toContain('203.0.113.77');
  });

  it('keep the client address when LOG_MASK_PII is not set, and never log the Authorization header', async () => {
    t = await createTestApp();
    await t.app.inject({ url: '/api/events/evt_0000000001', remoteAddress: '203.0.113.77', headers: { authorization: `Bearer ${API_TOKEN}` } });
    await postWebhook(t.app, 'transcript', readFixture('valid/transcript/documented.json'));
    expect(t.logs()).toContain('203.0.113.77');
    expect(t.logs()).not.toContain(API_TOKEN);
  });
});

describe('health probes', () => {
  it('answer without auth: /healthz alive, /readyz ready when the database takes a write', async () => {
    t = await createTestApp();
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });
});

describe('logs with LOG_MASK_PII', () => {
  it('mask visitor emails in request URLs (erasure requests, visitor filters)', async () => {
    t = await createTestApp({ LOG_MASK_PII: 'true' });
    await t.app.inject({ method: 'DELETE', url: '/api/visitors/jane.doe@example.com', headers: { authorization: `Bearer ${API_TOKEN}` } });
    await t.app.inject({ url: '/api/events?visitor=jane.doe%40example.com', headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(t.logs()).toContain('/api/visitors/j***@example.com');
    expect(t.logs()).toContain('visitor=j***%40example.com');
    expect(t.logs()).not.toMatch(/jane\.doe/);
  });
});
