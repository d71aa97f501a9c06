import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, WEBHOOK_TOKEN, countEvents, createTestApp, postWebhook, readFixture, type TestApp } from './helpers/app.js';

// Every documented route, hit with hostile path parameters, query strings and bodies: the answer is a 2xx or a 4xx
// with a problem body, never a 5xx, and nothing the request did is left half-written.
let t: TestApp;
let routes: Array<{ method: string; path: string }>;
beforeAll(async () => {
  t = await createTestApp();
  await postWebhook(t.app, 'transcript', readFixture('valid/transcript/documented.json'));
  const document = (await t.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
  routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
});
afterAll(async () => {
  await t.close();
});

const hostileValues = [
  '',
  ' ',
  '%00',
  "' OR 1=1 --",
  '"; DROP TABLE events; --',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'AND OR ( "',
  '-1',
  '1e309',
  '9'.repeat(400),
  'é✓💥\u202e',
  'x'.repeat(5000),
  '[object Object]',
];
const hostileQueries = ['a=1&a=2', 'limit=-5', 'limit=1e9', 'cursor=!!!', 'since=yesterday', 'type=nope', 'q=%22', '__proto__[x]=1', 'status=%00'];

describe('hostile input on every documented route', () => {
  it('never answers 5xx, and answers 4xx with a problem body', async () => {
    expect(routes.length).toBeGreaterThan(15);
    const events = () => countEvents(t.ctx.storage);
    const failures: string[] = [];
    for (const { method, path } of routes) {
      for (const value of hostileValues) {
        const url = path.replace(/\{[^}]+\}/g, encodeURIComponent(value));
        for (const query of hostileQueries) {
          const isWebhook = url.startsWith('/webhooks/');
          const token = isWebhook ? `&token=${WEBHOOK_TOKEN}` : '';
          const response = await t.app.inject({
            method: method as 'GET' | 'POST' | 'DELETE',
            url: `${url}?${query}${token}`,
            headers: { authorization: `Bearer ${API_TOKEN}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
            ...(method === 'POST' ? { payload: isWebhook ? '{"messages": "' + value.slice(0, 100) : JSON.stringify({ [value]: value }) } : {}),
          });
          if (response.statusCode >= 500) failures.push(`${method} ${url.slice(0, 80)}?${query} → ${response.statusCode} ${response.body.slice(0, 200)}`);
          else if (response.statusCode >= 400 && !String(response.headers['content-type']).startsWith('application/problem+json')) {
            failures.push(`${method} ${url.slice(0, 80)}?${query} → ${response.statusCode} without a problem body`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    // No hostile key matched the one stored event, so nothing was erased, and nothing hostile was stored.
    expect(await events()).toBe(1);
  });

  it.each([
    ['/api/events/%E0%A4%A', 400],
    [`/api/events/${'x'.repeat(200)}`, 414],
    [`/webhooks/chatlio/%E0%A4%A?token=${WEBHOOK_TOKEN}`, 400],
  ])('answers a URL Fastify refuses before routing (%s) with a problem body that does not echo it', async (url, status) => {
    const response = await t.app.inject({ url, headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).not.toContain(WEBHOOK_TOKEN);
  });
});
