// TRUST_PROXY: behind a reverse proxy every peer is the proxy, so the sign-in lockout must key on the client the proxy
// names in X-Forwarded-For, or one visitor guessing tokens locks everybody out; without the setting the header is a lie
// any client can tell, and is ignored.
import { afterEach, describe, expect, it } from 'vitest';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { MAX_FAILURES } from '../../src/ui/throttle.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function inbox(env: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp(env);
  apps.push(app);
  return app;
}

/** A sign-in form post from the test's peer (127.0.0.1), carrying the client address a proxy would add. */
async function signIn(t: TestApp, client: string, token: string): Promise<number> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/ui/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': client },
    payload: new URLSearchParams({ token, next: '/ui' }).toString(),
  });
  return response.statusCode;
}

async function lockOut(t: TestApp, client: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_FAILURES; attempt += 1) expect(await signIn(t, client, 'wrong-token-0123456789abcdef')).toBe(401);
  expect(await signIn(t, client, API_TOKEN)).toBe(429);
}

describe('the sign-in lockout behind a reverse proxy', () => {
  for (const setting of ['true', '1', '127.0.0.1', '10.0.0.0/8, 127.0.0.0/8', 'loopback']) {
    it(`locks out each X-Forwarded-For client on its own with TRUST_PROXY=${setting}`, async () => {
      const t = await inbox({ TRUST_PROXY: setting });
      await lockOut(t, '203.0.113.7');
      expect(await signIn(t, '198.51.100.9', 'wrong-token-0123456789abcdef')).toBe(401);
      expect(await signIn(t, '198.51.100.9', API_TOKEN)).toBe(303);
      expect(await signIn(t, '203.0.113.7', API_TOKEN)).toBe(429);
    });
  }

  it('ignores X-Forwarded-For without TRUST_PROXY: every client behind the same peer shares one lockout', async () => {
    const t = await inbox({});
    await lockOut(t, '203.0.113.7');
    expect(await signIn(t, '198.51.100.9', API_TOKEN)).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer outside the trusted addresses', async () => {
    const t = await inbox({ TRUST_PROXY: '10.0.0.0/8' });
    await lockOut(t, '203.0.113.7');
    expect(await signIn(t, '198.51.100.9', API_TOKEN)).toBe(429);
  });
});
