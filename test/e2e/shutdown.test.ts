// Defect 17 (issue 12): SIGTERM with one unfinished request waited 10 s and exited 1; refusals were Fastify's own body.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { WEBHOOK_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { startServer, stopServer, waitFor } from '../helpers/server.js';
import { buildApp } from '../../src/app.js';

type Client = { socket: Socket; received: string; closed: boolean };

function client(port: number, first: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const state: Client = { socket, received: '', closed: false };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (state.received += chunk));
    socket.on('close', () => (state.closed = true));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(first);
      resolve(state);
    });
  });
}

let t: TestApp | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await t?.close();
  app = undefined;
  t = undefined;
});

describe('defect 17: SIGTERM with an unfinished request exits 1 after 10 s', () => {
  it('exits 0 promptly, closing an unfinished request, a half-sent request line and an idle keep-alive connection', async () => {
    const server = await startServer();
    const unfinished = await client(
      server.port,
      `POST /webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":`,
    );
    const halfHeaders = await client(server.port, 'GET /readyz HTTP/1.1\r\nHost: x\r\n');
    const idle = await client(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => (idle.received.includes('"status":"ok"') ? true : undefined), 5000, 'the keep-alive answer');

    const signalled = Date.now();
    const code = await stopServer(server, 'SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(3000);
    await waitFor(() => (unfinished.closed && halfHeaders.closed && idle.closed ? true : undefined), 2000, 'the connections to close');
    // Dropped without an answer: they sent no complete request, so nothing was stored or acknowledged.
    expect(unfinished.received).toBe('');
    expect(halfHeaders.received).toBe('');
    expect(server.output()).not.toContain('shutdown took too long');
  });
});

describe('defect 17: requests refused during shutdown', () => {
  it('get a problem body with Retry-After, while the answer in progress is still sent', async () => {
    // A route that answers when told to, so a request is in progress when shutdown starts.
    t = await createTestApp();
    app = await buildApp(t.ctx);
    let release!: () => void;
    let entered!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    app.get('/test/slow', async () => {
      entered();
      await released;
      return { slow: 'done' };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;

    const keptAlive = await client(port, 'GET /test/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await inHandler;
    const closed = app.close();
    // A request sent on the same connection after shutdown began: refused.
    keptAlive.socket.write(`POST /webhooks/chatlio/feedback?token=${WEBHOOK_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    // Answered (queued behind the first answer) before the first one is released.
    await waitFor(() => (t!.logs().includes('/webhooks/chatlio/feedback') ? true : undefined), 3000, 'the second request to arrive');
    release();
    await waitFor(() => (keptAlive.closed ? true : undefined), 3000, 'the connection to close');
    await closed;
    app = undefined;

    const [first, second] = keptAlive.received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('{"slow":"done"}');
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second!.toLowerCase()).toContain('content-type: application/problem+json');
    expect(second!.toLowerCase()).toContain('retry-after: 5');
    expect(second!.toLowerCase()).toContain('connection: close');
    expect(second).toContain('"status":503');
  });
});
