// How the HTTP server treats connections: slow clients are cut off, a refusal closes its connection, and shutdown drops
// connections that got no answer instead of waiting for them.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { HttpProblem } from './errors.js';

/** How often Node checks the headers and request timeouts (its default, 30 s, would let them overrun by that much). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;
/** What a request refused during shutdown is told to wait before trying again (another instance, or this one restarted). */
export const SHUTDOWN_RETRY_AFTER_S = 5;
// Refusals sent before the body is read: keeping the connection would mean reading (and dropping) whatever body follows.
const REFUSED_BEFORE_BODY = new Set([401, 413, 415]);

type Answering = WeakMap<Socket, { request: IncomingMessage; response: ServerResponse }>;
type TimeoutConfig = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;

/**
 * Fastify's options and hooks for the connections. Timeouts (Fastify turns Node's request timeout off, so a trickling
 * client held its socket for ever): the headers within headersTimeoutMs (a connection that sends nothing too), the
 * whole request within requestTimeoutMs, an idle keep-alive connection closed after keepAliveTimeoutMs.
 */
export function connectionHandling(config: TimeoutConfig): { options: FastifyHttpOptions<Server>; register: (app: FastifyInstance) => void } {
  // Sockets with a request in hand, and that request with its answer: shutdown keeps these until the answer is sent.
  const answering: Answering = new WeakMap();
  const options: FastifyHttpOptions<Server> = {
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Refused during shutdown with our own problem body and Retry-After (the onRequest hook below), not Fastify's.
    return503OnClosing: false,
    clientErrorHandler: (error, socket) => answerClientError(error, socket, answering.get(socket)?.response.headersSent !== true),
  };
  return { options, register: (app) => register(app, answering) };
}

/** A client error found by Node's HTTP parser (timeout, malformed request): a problem body, then the socket closes. */
function answerClientError(error: Error & { code?: string }, socket: Socket, canAnswer: boolean): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail = status === 408 ? 'the request was not received in time' : status === 431 ? 'the request headers are too large' : 'the request is malformed';
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status], status, detail });
  // Only when no answer has started on this connection: a second status line would corrupt the first answer.
  if (canAnswer && socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The hooks; registered before any route, so the shutdown refusal runs before anything else. */
function register(app: FastifyInstance, answering: Answering): void {
  let closing = false;
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  // Callbacks rather than async hooks: they run on every request, and an async hook costs a promise and a microtask.
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket;
    answering.set(socket, { request: request.raw, response: reply.raw });
    reply.raw.once('close', () => {
      if (answering.get(socket)?.request !== request.raw) return;
      answering.delete(socket);
      // Shutting down: a connection whose answer is done has nothing left to do.
      if (closing) socket.end(() => socket.destroy());
    });
    if (!closing) return done();
    done(new HttpProblem(503, 'the server is shutting down; retry shortly', { headers: { 'retry-after': String(SHUTDOWN_RETRY_AFTER_S) } }));
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    // Answered before the whole body arrived (or a refusal that never reads it): close rather than read the rest.
    if (!request.raw.complete || REFUSED_BEFORE_BODY.has(reply.statusCode)) reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('preClose', async () => {
    closing = true;
    // Idle connections, ones still sending headers, and requests whose body has not all arrived got no answer: dropping
    // them loses nothing (the sender retries), while waiting could take for ever. Requests being answered finish.
    for (const socket of sockets) {
      const request = answering.get(socket)?.request;
      if (!request || !request.complete) socket.destroy();
    }
  });
}
