// Defect 16 (issue 12): the timeout settings, and early refusals that close their connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { WEBHOOK_TOKEN, createTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ BODY_LIMIT: '2048' });
});
afterAll(async () => {
  await t?.close();
});

describe('defect 16: timeout settings', () => {
  it('has documented defaults: headers 10 s, whole request 30 s, idle keep-alive 72 s', () => {
    expect(loadConfig({})).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000 });
  });

  it('refuses a headers timeout longer than the request timeout, naming the variable', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' })).toThrow(ConfigError);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
  });
});

describe('defect 16: a refusal sent before the body is read closes the connection', () => {
  const post = (query: string, contentType: string, payload: string) =>
    t.app.inject({ method: 'POST', url: `/webhooks/chatlio/feedback${query}`, headers: { 'content-type': contentType }, payload });

  it.each([
    [401, () => post('?token=wrong-token-0123456789abcdefghij', 'application/json', '{}')],
    [413, () => post(`?token=${WEBHOOK_TOKEN}`, 'application/json', JSON.stringify({ pad: 'x'.repeat(4096) }))],
    [415, () => post(`?token=${WEBHOOK_TOKEN}`, 'text/plain', 'hello')],
  ])('%i answers with Connection: close and a problem body', async (status, send) => {
    const response = await send();
    expect(response.statusCode).toBe(status);
    expect(response.headers.connection).toBe('close');
    expect(response.headers['content-type']).toContain('application/problem+json');
  });
});
