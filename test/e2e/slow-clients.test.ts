// Defect 16 (issue 12): slow clients were never timed out; trickling sockets could hold every file descriptor.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_TOKEN } from '../helpers/app.js';
import { startServer, stopServer, waitFor, type ServerProcess } from '../helpers/server.js';

// Short timeouts so the test is quick; the defaults are documented in the README's settings table.
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const PER_KIND = 60;
const TRICKLE_EVERY_MS = 200;

type Attacker = { kind: string; socket: Socket; received: string; closedAt?: number };

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    KEEP_ALIVE_TIMEOUT_MS: '1000',
  });
});
afterAll(async () => {
  if (server) await stopServer(server);
});

const webhookHead = (token: string) =>
  `POST /webhooks/chatlio/feedback?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;

/** Opens a raw socket that sends `first` and then one byte of `trickle` every TRICKLE_EVERY_MS, for ever. */
function attacker(kind: string, first: string, trickle: string): Attacker {
  const socket = connect({ host: '127.0.0.1', port: server.port });
  const state: Attacker = { kind, socket, received: '' };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (state.received += chunk));
  socket.on('error', () => {});
  socket.on('close', () => (state.closedAt = Date.now()));
  socket.once('connect', () => {
    if (first) socket.write(first);
    if (!trickle) return;
    let sent = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || !socket.writable) return clearInterval(timer);
      socket.write(trickle[sent++ % trickle.length]!);
    }, TRICKLE_EVERY_MS);
    socket.once('close', () => clearInterval(timer));
  });
  return state;
}

describe('defect 16: slow clients never time out', () => {
  it('cuts off hundreds of trickling connections while real webhooks still get through', async () => {
    const started = Date.now();
    const attackers: Attacker[] = [];
    for (let i = 0; i < PER_KIND; i++) {
      attackers.push(
        attacker('silent', '', ''),
        attacker('slow headers', 'POST /webhooks/chatlio/feedback HTTP/1.1\r\n', 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n'),
        attacker('unauthenticated body', webhookHead('wrong-token-0123456789abcdefghij'), '{"a":1}'),
        attacker('authenticated body', webhookHead(WEBHOOK_TOKEN), '{"a":1}'),
      );
    }

    // While they hold their sockets, real webhooks are answered.
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${server.url}/webhooks/chatlio/unanswered?token=${WEBHOOK_TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conversationUUID: `slow-clients-${i}` }),
      });
      expect(response.status).toBe(200);
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    // Every trickling socket is closed by the server, within the request timeout plus Node's one-second check.
    await waitFor(() => (attackers.every((a) => a.closedAt !== undefined) ? true : undefined), REQUEST_TIMEOUT_MS + 6000, 'every trickling socket to be closed').catch(
      (error: unknown) => {
        const open = attackers.filter((a) => a.closedAt === undefined).map((a) => a.kind);
        throw new Error(`${(error as Error).message}; still open: ${open.length} (${[...new Set(open)].join(', ')})`);
      },
    );
    for (const a of attackers) expect(a.closedAt! - started, a.kind).toBeLessThan(REQUEST_TIMEOUT_MS + 5000);

    // The refusal closes its connection at once instead of reading the body that follows.
    for (const a of attackers.filter((x) => x.kind === 'unauthenticated body')) {
      expect(a.received).toMatch(/^HTTP\/1\.1 401 /);
      expect(a.received.toLowerCase()).toContain('connection: close');
      expect(a.closedAt! - started).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
    }
    // A request that never completes gets 408 with a problem body.
    for (const a of attackers.filter((x) => x.kind === 'authenticated body' || x.kind === 'slow headers')) {
      expect(a.received, a.kind).toMatch(/^HTTP\/1\.1 408 /);
      expect(a.received).toContain('application/problem+json');
    }

    // And the server is still there for real traffic.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  }, 30_000);

  it('keeps the connection of a webhook whose body has all arrived', async () => {
    const keepAlive = attacker('complete', `POST /webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`, '');
    await waitFor(() => (keepAlive.received.includes('"duplicate"') ? true : undefined), 5000, 'the answer');
    expect(keepAlive.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(keepAlive.received).toContain('Connection: keep-alive');
    expect(keepAlive.closedAt).toBeUndefined();
    keepAlive.socket.destroy();
  });
});
