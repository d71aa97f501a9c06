// Defect 18 (issue 12): the webhook token reached the logs when the query key was percent-encoded (`?tok%65n=…`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_TOKEN, createTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await t?.close();
});

const post = (query: string) =>
  t.app.inject({ method: 'POST', url: `/webhooks/chatlio/feedback?${query}`, headers: { 'content-type': 'application/json' }, payload: '{}' });

/** The log lines written while `send` ran. */
async function logsOf(send: () => Promise<unknown>): Promise<string> {
  const before = t.logs().length;
  await send();
  return t.logs().slice(before);
}

describe('defect 18: the webhook token reaches the logs when the query key is percent-encoded', () => {
  // Spellings the query parser reads as `token`, so the server accepts them: the log must not carry the value.
  it.each([
    ['plain', `token=${WEBHOOK_TOKEN}`],
    ['one letter encoded', `tok%65n=${WEBHOOK_TOKEN}`],
    ['first letter encoded', `%74oken=${WEBHOOK_TOKEN}`],
    ['lower-case hex', `to%6ben=${WEBHOOK_TOKEN}`],
    ['every letter encoded', `%74%6F%6B%65%6E=${WEBHOOK_TOKEN}`],
    ['after another parameter', `a=1&tok%65n=${WEBHOOK_TOKEN}&b=2`],
  ])('accepts the token spelled %s and logs no trace of it', async (_name, query) => {
    let status = 0;
    const logs = await logsOf(async () => (status = (await post(query)).statusCode));
    expect(status).toBe(200);
    expect(logs).toContain('[REDACTED]');
    expect(logs).not.toContain(WEBHOOK_TOKEN);
  });

  // Spellings the server does not take as its token (other case, `+`, double encoding, double keys): redacted all the same.
  it.each([
    ['mixed case, encoded', `%54oken=${WEBHOOK_TOKEN}`],
    ['upper case', `TOKEN=${WEBHOOK_TOKEN}`],
    ['a + after the name', `token+=${WEBHOOK_TOKEN}`],
    ['a + before the name', `+token=${WEBHOOK_TOKEN}`],
    ['double-encoded', `tok%2565n=${WEBHOOK_TOKEN}`],
    ['with brackets', `token[]=${WEBHOOK_TOKEN}`],
    ['the same key twice', `token=${WEBHOOK_TOKEN}&token=${WEBHOOK_TOKEN}`],
    ['the key twice, spelled two ways', `tok%65n=${WEBHOOK_TOKEN}&%74oken=${WEBHOOK_TOKEN}`],
    ['the = encoded too', `token%3D${WEBHOOK_TOKEN}`],
  ])('logs no trace of a token spelled %s', async (_name, query) => {
    const logs = await logsOf(() => post(query));
    expect(logs).toContain('[REDACTED]');
    expect(logs).not.toContain(WEBHOOK_TOKEN);
  });

  it('keeps the other query parameters readable', async () => {
    const logs = await logsOf(() => post(`tok%65n=${WEBHOOK_TOKEN}&source=chatlio`));
    expect(logs).toContain('/webhooks/chatlio/feedback?tok%65n=[REDACTED]&source=chatlio');
  });
});

describe('defect 18 on URLs refused before routing', () => {
  it.each([
    ['a malformed path', `/webhooks/chatlio/%E0%A4%A?tok%65n=${WEBHOOK_TOKEN}`],
    ['an unknown route', `/webhooks/chatlio/nothing?%74oken=${WEBHOOK_TOKEN}`],
  ])('logs no trace of the token on %s', async (_name, url) => {
    const logs = await logsOf(() => t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{}' }));
    expect(logs).not.toContain(WEBHOOK_TOKEN);
  });
});
