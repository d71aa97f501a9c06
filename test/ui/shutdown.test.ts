// On a server of its own, since what these do cannot be undone: wrong tokens lock an address out of signing in for a
// while, and an open live stream does not hold up SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN } from '../helpers/app.js';
import { startServer, stopServer, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let cookie: string;

async function signIn(token: string): Promise<Response> {
  return fetch(`${server.url}/ui/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
    body: new URLSearchParams({ token }),
  });
}

beforeAll(async () => {
  server = await startServer();
  const response = await signIn(API_TOKEN);
  expect(response.status).toBe(303);
  cookie = response.headers.get('set-cookie')!.split(';')[0]!;
});
afterAll(async () => {
  if (server) await stopServer(server);
});

describe('the web inbox under abuse and at shutdown', () => {
  it('answers 429 with Retry-After after five wrong tokens from one address, even to the right token', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await signIn('wrong-token')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const locked = await signIn(API_TOKEN);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('ends open live streams on SIGTERM and exits with 0 within 10 s', async () => {
    const stream = await fetch(`${server.url}/ui/live`, { headers: { cookie } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^retry: /);
    const started = Date.now();
    const ended = (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
    })();
    const code = await stopServer(server, 'SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await ended;
  });
});
