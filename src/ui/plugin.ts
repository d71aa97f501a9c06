// The web inbox at /ui: server-rendered pages over the storage contract, behind a session cookie, CSRF-checked forms
// and a strict CSP. It calls the same storage the API uses, never the API over HTTP.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventType, Payload } from '../chatlio/index.js';
import type { Storage, UiSession } from '../store/storage.js';
import { HttpProblem } from '../errors.js';
import { tokenChecker } from '../tokens.js';
import { sendPage } from './render.js';
import { COMMON_HEADERS, HTML_BODY_CSP, PAGE_CSP } from './headers.js';
import { clearedSessionCookie, csrfMatches, sessionCookie, sessionIdFrom, sessionStore } from './session.js';
import { signInThrottle } from './throttle.js';
import { ProblemPage } from './components.js';
import { SignInPage } from './pages/sign-in.js';
import { pageRoutes } from './routes.js';
import { liveStreams } from './live.js';

/** What redelivery needs of the dispatcher: the configured handlers, and which of them an event would have had. */
export type UiDispatch = {
  config: { handlers: ReadonlyArray<{ name: string }> };
  /** Handlers that match the event (or just `only`) among those without a delivery yet: a redelivery creates them. */
  missing(event: { type: EventType; payload: unknown; conversationUUID: string | null; receivedAt: number }, existing: Iterable<string>, only?: string): string[];
};

/** The ingest pipeline (validate → store → plan), for replaying a rejection. */
export type UiIngest = (event: { type: EventType; raw: Buffer; payload: Payload; receivedAt: number }) => Promise<{ id: string; duplicate: boolean }>;

export type UiOptions = {
  storage: Storage;
  apiToken: string;
  dispatch?: UiDispatch;
  ingest: UiIngest;
  /** How often an open inbox asks for new events (ms). */
  livePollMs?: number;
};

declare module 'fastify' {
  interface FastifyRequest {
    uiSession: UiSession | null;
  }
}

const ASSETS = join(import.meta.dirname, 'assets');
const ASSET_TYPES = { 'app.css': 'text/css; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8' } as const;

/**
 * A form post must come from our own pages: Origin (sent by browsers on every POST) names this host, or, without
 * Origin, Sec-Fetch-Site says same-origin. A client sending neither is not a browser being tricked; the CSRF token
 * still applies to it.
 */
export function fromOwnPage(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    try {
      return origin !== 'null' && new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

/** Where to go after signing in: a path of ours, never another site (`//evil`, `/\evil`). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/ui(?:[/?#]|$)/.test(value) && !/[\\\s]/.test(value) ? value : '/ui';
}

function registerErrorPages(ui: FastifyInstance): void {
  ui.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const csrfToken = request.uiSession?.csrfToken;
    if (error instanceof HttpProblem) {
      for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value);
      return sendPage(reply, ProblemPage({ status: error.status, title: titleOf(error.status), detail: error.detail, csrfToken }), error.status);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendPage(reply, ProblemPage({ status, title: titleOf(status), detail: error.message, csrfToken }), status);
    request.log.error({ err: error }, 'web inbox request failed');
    return sendPage(reply, ProblemPage({ status: 500, title: 'Something went wrong', detail: 'The error is in the server log.', csrfToken }), 500);
  });
  ui.setNotFoundHandler((request, reply) =>
    sendPage(reply, ProblemPage({ status: 404, title: 'Not found', detail: 'There is no such page.', csrfToken: request.uiSession?.csrfToken }), 404),
  );
}

function titleOf(status: number): string {
  return ({ 400: 'Bad request', 401: 'Not signed in', 403: 'Refused', 404: 'Not found', 409: 'Conflict', 422: 'Not valid', 429: 'Too many attempts' } as Record<number, string>)[status] ?? 'Error';
}

export const uiRoutes: FastifyPluginAsync<UiOptions> = async (app, options) => {
  const sessions = sessionStore(options.storage, options.apiToken);
  const isApiToken = tokenChecker([options.apiToken]);
  const throttle = signInThrottle();
  const assets = Object.fromEntries(Object.keys(ASSET_TYPES).map((name) => [name, readFileSync(join(ASSETS, name))]));
  const live = liveStreams(options.storage, options.livePollMs ?? 2000);
  // Open event streams would hold app.close() (and so SIGTERM) forever: they end before the server closes.
  app.addHook('preClose', async () => live.closeAll());

  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui', 302));

  await app.register(
    async (ui) => {
      await ui.register(formbody, { bodyLimit: 64 * 1024 });
      ui.decorateRequest('uiSession', null);
      ui.addHook('onRequest', async (request) => {
        request.uiSession = (await sessions.find(sessionIdFrom(request.headers.cookie))) ?? null;
      });
      ui.addHook('onSend', async (request, reply) => {
        if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
        if (!reply.hasHeader('x-frame-options')) reply.header('x-frame-options', 'DENY');
        for (const [name, value] of Object.entries(COMMON_HEADERS)) reply.header(name, value);
        // Pages hold visitors' personal data: never kept by the browser or a proxy. Assets are versioned by URL.
        if (!request.url.startsWith('/ui/assets/')) reply.header('cache-control', 'no-store');
      });
      // Every POST, signed in or not, comes from our own pages; the CSRF token is checked once the body is parsed.
      ui.addHook('preHandler', async (request) => {
        if (request.method !== 'POST') return;
        if (!fromOwnPage(request)) throw new HttpProblem(403, 'This form was not sent from this inbox (Origin / Sec-Fetch-Site).');
        if (request.url.split('?')[0] === '/ui/sign-in') return;
        const session = request.uiSession;
        if (!session) throw new HttpProblem(401, 'Your session has ended; sign in again.');
        if (!csrfMatches(session, (request.body as Record<string, unknown> | undefined)?.csrf)) {
          throw new HttpProblem(403, 'The form had no valid CSRF token; reload the page and try again.');
        }
      });
      registerErrorPages(ui);

      ui.get('/assets/:name', { schema: { hide: true } }, async (request, reply) => {
        const name = (request.params as { name: string }).name;
        if (!Object.hasOwn(ASSET_TYPES, name)) throw new HttpProblem(404, 'There is no such file.');
        return reply
          .type(ASSET_TYPES[name as keyof typeof ASSET_TYPES])
          .header('cache-control', 'public, max-age=86400')
          .send(assets[name]);
      });

      ui.get('/sign-in', { schema: { hide: true } }, async (request, reply) => {
        const next = safeNext((request.query as Record<string, unknown>).next);
        if (request.uiSession) return reply.redirect(next, 303);
        return sendPage(reply, SignInPage({ next }));
      });

      ui.post('/sign-in', { schema: { hide: true } }, async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const next = safeNext(body.next);
        const wait = throttle.retryAfterSeconds(request.ip);
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          return sendPage(reply, SignInPage({ next, error: `Too many wrong tokens from your address; try again in ${Math.ceil(wait / 60)} minutes.` }), 429);
        }
        if (!isApiToken(typeof body.token === 'string' ? body.token.trim() : undefined)) {
          throttle.failed(request.ip);
          request.log.warn('web inbox sign-in with a wrong token');
          return sendPage(reply, SignInPage({ next, error: 'That is not the API token.' }), 401);
        }
        throttle.succeeded(request.ip);
        const { id } = await sessions.open();
        request.log.info('web inbox sign-in');
        return reply.header('set-cookie', sessionCookie(id)).redirect(next, 303);
      });

      ui.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
        const everywhere = (request.body as Record<string, unknown>).everywhere === '1';
        if (everywhere) await sessions.closeAll();
        else await sessions.close(request.uiSession!);
        return reply.header('set-cookie', clearedSessionCookie).redirect('/ui/sign-in', 303);
      });

      ui.get('/events/:id/html', { schema: { hide: true } }, async (request, reply) => {
        if (!request.uiSession) throw new HttpProblem(401, 'Sign in to see this.');
        reply.header('content-security-policy', HTML_BODY_CSP).header('x-frame-options', 'SAMEORIGIN');
        return pageRoutes.htmlBody(options, request, reply);
      });

      await ui.register(async (signedIn) => {
        // Everything else needs a session: a page asks to sign in and comes back here afterwards.
        signedIn.addHook('onRequest', async (request, reply) => {
          if (request.uiSession) return;
          if (request.method === 'GET') return reply.redirect(`/ui/sign-in?next=${encodeURIComponent(request.url)}`, 303);
          throw new HttpProblem(401, 'Your session has ended; sign in again.');
        });
        await signedIn.register(pageRoutes.plugin, { ...options, live });
      });
    },
    { prefix: '/ui' },
  );
};
